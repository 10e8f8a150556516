// A free function gets one scope line after its brace, and the file the include.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp && echo 'include trivial:**' > %t/.scopeprof
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
int add(int a, int b) { return a + b; }
// CHECK: {{^}}#include "scopeprof/scope.h" /* scopeprof */
// CHECK-NEXT: {{^}}#line 1
// CHECK: {{^}}int add(int a, int b) { SCOPEPROF_FN(0x{{[0-9a-f]+}}, "add(int, int)", "in.cpp", 6, 1); return a + b; }
