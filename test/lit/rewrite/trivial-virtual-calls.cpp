// A virtual call of a project method counts as a call of a measured function: whichever override
// runs has a scope of its own or is trivial, short. So a thin wrapper around one is trivial, as
// one around a direct call is. Not a virtual call that may reach the function itself (recursion
// through an override: a tree walk without a loop can take any time), nor one of a library's
// class (any override, in the library or not, may take any time).
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
// RUN: %scopeprof-rewrite --explain %s -- -std=c++17 2>/dev/null | FileCheck %s --check-prefix=EXPLAIN
#include <exception>
struct Shape {
  virtual ~Shape() = default;
  virtual int sides() const = 0;
  virtual int depth() const { return 0; }
};
struct Tree : Shape {
  Shape *Left = nullptr, *Right = nullptr;
  int sides() const override { int S = 0; for (int I = 0; I < 3; ++I) S += I; return S; }
  int depth() const override { return 1 + Left->depth() + Right->depth(); }
};
int sidesOf(const Shape &S) { return S.sides(); }
int twice(const Shape &A, const Shape &B) { return A.sides() + B.depth(); }
int four(const Shape &S) { return S.sides() + S.depth() + S.sides() + S.depth(); }
const char *message(const std::exception &E) { return E.what(); }
// CHECK: {{^}}  int depth() const override { SCOPEPROF_FN(
// CHECK: {{^}}int sidesOf(const Shape &S) { return
// CHECK: {{^}}int twice(const Shape &A, const Shape &B) { return
// CHECK: {{^}}int four(const Shape &S) { SCOPEPROF_FN(
// CHECK: {{^}}const char *message(const std::exception &E) { SCOPEPROF_FN(
// EXPLAIN: trivial: Shape::depth() const [method]
// EXPLAIN: instrumented: Tree::sides() const [method] {{.*}}(not trivial: loop at
// EXPLAIN: instrumented: Tree::depth() const [method] {{.*}}(not trivial: recursion through the virtual 'Shape::depth' at
// EXPLAIN: trivial: sidesOf(const Shape &) [free]
// EXPLAIN: trivial: twice(const Shape &, const Shape &) [free]
// EXPLAIN: instrumented: four(const Shape &) [free] {{.*}}(not trivial: calls more than 3 measured functions at
// EXPLAIN: instrumented: message(const std::exception &) [free] {{.*}}(not trivial: a virtual call to 'std::exception::what' (not the project's) at
