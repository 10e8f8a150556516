// Constructors (scope at body start, after member initializers), delegating constructors, destructors.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp && echo 'include trivial:**' > %t/.scopeprof
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
struct S {
  int x;
  S() : S(1) {}
  S(int v) : x(v) { x += 1; }
  ~S() { x = 0; }
};
// CHECK: S() : S(1) { SCOPEPROF_FN({{.*}}"S::S()", "in.cpp", 7, 6);}
// CHECK: S(int v) : x(v) { SCOPEPROF_FN({{.*}}"S::S(int)", "in.cpp", 8, 6); x += 1; }
// CHECK: ~S() { SCOPEPROF_FN({{.*}}"S::~S()", "in.cpp", 9, 10); x = 0; }
