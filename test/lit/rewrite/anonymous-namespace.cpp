// Anonymous namespaces, extern "C", variadic, noexcept, trailing return, attributes.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp && echo 'include trivial:**' > %t/.scopeprof
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
#include <cstdarg>
namespace { int helper(int v) noexcept { return v; } }
extern "C" int cfun(int n, ...) { return n; }
auto trailing(int v) -> int { return helper(v); }
[[nodiscard]] __attribute__((noinline)) int attributed() { return cfun(1); }
// CHECK: "(anonymous namespace)::helper(int)", "in.cpp", 6, 1);
// CHECK: "cfun(int, ...)", "in.cpp", 7, 1);
// CHECK: "trailing(int)", "in.cpp", 8, 1);
// CHECK: "attributed()", "in.cpp", 9, 1);
