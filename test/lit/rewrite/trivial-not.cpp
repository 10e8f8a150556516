// What keeps a small function instrumented: loops, goto, unknown callees (a library's, through a
// pointer, virtual ones of a library's class: trivial-virtual-calls.cpp), more than three calls
// of measured project functions, recursion, try/catch, throw, static locals initialized at run
// time, and size. A call of a project function that is not trivial is not inlined: that function
// has its own scope (callsSum, wrapsCallsSum, and odd, whose callee even keeps its own scope).
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
// RUN: %scopeprof-rewrite --explain %s -- -std=c++17 2>/dev/null | FileCheck %s --check-prefix=EXPLAIN
#include <exception>
#include <unistd.h>
int external(int);
int scaled(int V) { return V * V * V * 3 + V * V * 5 + V * V * V * V * 7 + V * V * V * V * V * 11 + (V ^ 17) * 19 + (V | 23) * (V & 29) * V + V * V * V * 31 * V * V + (V % 37) * V * V * 41; }
int sum(const int *P, int N) { int S = 0; for (int I = 0; I < N; ++I) S += P[I]; return S; }
int callsLibrary(int V) { return getpid() + V; }
int callsSum(const int *P) { return sum(P, 2); }
int wrapsCallsSum(const int *P) { return callsSum(P); }
int fourSteps(const int *P) { return sum(P, 1) + sum(P, 2) + callsSum(P) + sum(P, 4); }
int fact(int N) { return N <= 1 ? 1 : N * fact(N - 1); }
int even(int N);
int odd(int N) { return N == 0 ? 0 : even(N - 1); }
int even(int N) { return N == 0 ? 1 : odd(N - 1); }
int jump(int V) { if (V) goto out; V = 1; out: return V; }
int viaPointer(int (*F)(int), int V) { return F(V); }
struct Shape { virtual int sides() const { return 0; } };
struct Square final : Shape { int sides() const override { return 4; } };
int virtualCall(const std::exception &E) { return E.what()[0]; }
int finalCall(const Square &S) { return S.sides(); }
int qualifiedCall(const Shape &S) { return S.Shape::sides(); }
int guarded(int V) { try { return V; } catch (...) { return 0; } }
int throws(int V) { if (V < 0) throw V; return V; }
int staticLocal(int V) { static int Base = external(0); return Base + V; }
int constantStatic(int V) { static int Base = 3; return Base + V; }
int large(int A, int B) { return A * B + A - B + scaled(A) + scaled(B) + scaled(A + B) + scaled(A - B); }
// CHECK: {{^}}int sum(const int *P, int N) { SCOPEPROF_FN(
// CHECK: {{^}}int callsLibrary(int V) { SCOPEPROF_FN(
// CHECK: {{^}}int callsSum(const int *P) { return
// CHECK: {{^}}int wrapsCallsSum(const int *P) { return
// CHECK: {{^}}int fourSteps(const int *P) { SCOPEPROF_FN(
// CHECK: {{^}}int fact(int N) { SCOPEPROF_FN(
// CHECK: {{^}}int odd(int N) { return
// CHECK: {{^}}int even(int N) { SCOPEPROF_FN(
// CHECK: {{^}}int jump(int V) { SCOPEPROF_FN(
// CHECK: {{^}}int viaPointer(int (*F)(int), int V) { SCOPEPROF_FN(
// CHECK: {{^}}int virtualCall(const std::exception &E) { SCOPEPROF_FN(
// CHECK: {{^}}int finalCall(const Square &S) { return
// CHECK: {{^}}int qualifiedCall(const Shape &S) { return
// CHECK: {{^}}int guarded(int V) { SCOPEPROF_FN(
// CHECK: {{^}}int throws(int V) { SCOPEPROF_FN(
// CHECK: {{^}}int staticLocal(int V) { SCOPEPROF_FN(
// CHECK: {{^}}int constantStatic(int V) { static
// CHECK: {{^}}int large(int A, int B) { SCOPEPROF_FN(
// EXPLAIN: trivial: scaled(int) [free]
// EXPLAIN: instrumented: sum(const int *, int) [free] (no rule matched: the default) (not trivial: loop at trivial-not.cpp:15)
// EXPLAIN: instrumented: callsLibrary(int) [free] {{.*}} (not trivial: calls 'getpid' (no body visible) at trivial-not.cpp:16)
// EXPLAIN: trivial: callsSum(const int *) [free] {{.*}} (trivial: 6 of 200 AST nodes inlined)
// EXPLAIN: trivial: wrapsCallsSum(const int *) [free]
// EXPLAIN: instrumented: fourSteps(const int *) [free] {{.*}} (not trivial: calls more than 3 measured functions at trivial-not.cpp:19)
// EXPLAIN: instrumented: fact(int) [free] {{.*}} (not trivial: recursion through 'fact')
// EXPLAIN: trivial: odd(int) [free]
// EXPLAIN: instrumented: even(int) [free] {{.*}} (not trivial: recursion through 'odd')
// EXPLAIN: instrumented: jump(int) [free] {{.*}} (not trivial: goto at trivial-not.cpp:24)
// EXPLAIN: instrumented: viaPointer(int (*)(int), int) [free] {{.*}} (not trivial: a call through a pointer at trivial-not.cpp:25)
// EXPLAIN: trivial: Shape::sides() const [method]
// EXPLAIN: trivial: Square::sides() const [method]
// EXPLAIN: instrumented: virtualCall(const std::exception &) [free] {{.*}} (not trivial: a virtual call to 'std::exception::what' (not the project's) at trivial-not.cpp:28)
// EXPLAIN: trivial: finalCall(const Square &) [free]
// EXPLAIN: trivial: qualifiedCall(const Shape &) [free]
// EXPLAIN: instrumented: guarded(int) [free] {{.*}} (not trivial: try/catch at trivial-not.cpp:31)
// EXPLAIN: instrumented: throws(int) [free] {{.*}} (not trivial: throw at trivial-not.cpp:32)
// EXPLAIN: instrumented: staticLocal(int) [free] {{.*}} (not trivial: a static local with a dynamic initializer at trivial-not.cpp:33)
// EXPLAIN: trivial: constantStatic(int) [free]
// EXPLAIN: instrumented: large(int, int) [free] {{.*}} (not trivial: larger than 200 AST nodes inlined)
