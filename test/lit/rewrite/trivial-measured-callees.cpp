// A call of a project function that is not trivial costs its caller one node, not the callee's
// body: the callee's time is its own, measured by its scope wherever its body is. Only a
// function the rewriter gives a scope counts so: not one the rules exclude, nor one outside the
// project (a library's); those keep their callers instrumented. A constexpr function has no
// scope: its visible body is inlined as any trivial callee's (trivial-odr.test: an invisible one).
// RUN: rm -rf %t && mkdir -p %t/project %t/vendor && cp %s %t/project/in.cpp
// RUN: printf 'int vendored(int);\n' > %t/vendor/vendor.h
// RUN: printf 'exclude function:excluded\n' > %t/project/.scopeprof
// RUN: %scopeprof-rewrite --explain %t/project/in.cpp -- -std=c++17 -I%t/vendor 2>/dev/null | FileCheck %s
#include "vendor.h"
int declaredHere(int);
int excluded(int V) { int S = 0; for (int I = 0; I < V; ++I) S += I; return S; }
constexpr int folded(int V);
int thin(int V) { return declaredHere(V) + 1; }
int fastPath(int V) { return V < 8 ? V : declaredHere(V); }
int callsExcluded(int V) { return excluded(V) + 1; }
int callsVendored(int V) { return vendored(V) + 1; }
int callsConstexpr(int V) { return folded(V) + 1; }
constexpr int folded(int V) { return V * 2; }
// CHECK: in.cpp:12: excluded by rule: excluded(int) [free]
// CHECK: in.cpp:14: trivial: thin(int) [free] {{.*}}(trivial: 7 of 200 AST nodes inlined)
// CHECK: in.cpp:15: trivial: fastPath(int) [free]
// CHECK: in.cpp:16: instrumented: callsExcluded(int) [free] {{.*}}(not trivial: via 'excluded': loop at in.cpp:12)
// CHECK: in.cpp:17: instrumented: callsVendored(int) [free] {{.*}}(not trivial: calls 'vendored' (no body visible) at in.cpp:17)
// CHECK: in.cpp:18: trivial: callsConstexpr(int) [free]
