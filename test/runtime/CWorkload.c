/* A C program using the C form of SCOPEPROF_FN; with N = 0 it makes no instrumented call. */
#include "scopeprof/scope.h"

#include <stdlib.h>

static int square(int x) {
  SCOPEPROF_FN(0x200, "square(int)", "test/runtime/CWorkload.c", 6, SCOPEPROF_KIND_FREE);
  return x * x;
}

static int sum_squares(int n) {
  SCOPEPROF_FN(0x201, "sum_squares(int)", "test/runtime/CWorkload.c", 11, SCOPEPROF_KIND_FREE);
  int total = 0;
  for (int i = 0; i < n; ++i)
    total += square(i);
  return total;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  return n > 0 && sum_squares(n) < 0;
}
