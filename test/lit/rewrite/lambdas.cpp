// Lambdas and generic lambdas get scopes when a rule selects kind:lambda; named after the
// enclosing function's signature and their position in it.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp && printf 'include kind:lambda\ninclude trivial:**\n' > %t/.scopeprof
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
int run(int n) {
  auto add = [n](int v) { return v + n; };
  auto generic = [](auto v) { return v; };
  return add(1) + generic(2);
}
// CHECK: "run(int)::lambda#1(int) const", "in.cpp", 8, 32);
// CHECK: "run(int)::lambda#2(auto) const", "in.cpp", 9, 160);
