// C functions in a C translation unit get the same line (the header's C form).
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.c && echo 'include trivial:**' > %t/.scopeprof
// RUN: %scopeprof-rewrite --in-place %t/in.c -- -std=c11 2>/dev/null
// RUN: FileCheck --input-file=%t/in.c %s
// RUN: %clang -std=c11 -fsyntax-only -I%runtime_include %t/in.c
static int square(int x) { return x * x; }
int sum(int n) {
  int total = 0;
  for (int i = 0; i < n; ++i)
    total += square(i);
  return total;
}
// CHECK: {{^}}#include "scopeprof/scope.h" /* scopeprof */
// CHECK: static int square(int x) { SCOPEPROF_FN({{.*}}, "square(int)", "in.c", 6, 65); return x * x; }
// CHECK: int sum(int n) { SCOPEPROF_FN({{.*}}, "sum(int)", "in.c", 7, 1);
