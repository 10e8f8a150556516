/* A C program using the C form of SCOPEPROF_FN; with N = 0 it makes no instrumented call.
 * "jump N": N longjmps out of three open scopes, each followed by a call (error recovery). */
#include "scopeprof/scope.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

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

static jmp_buf recovery;

static void fail_deep(int levels) {
  SCOPEPROF_FN(0x202, "fail_deep(int)", "test/runtime/CWorkload.c", 24, SCOPEPROF_KIND_FREE);
  if (levels == 0)
    longjmp(recovery, 1);
  fail_deep(levels - 1);
}

static int recover(int n) {
  SCOPEPROF_FN(0x203, "recover(int)", "test/runtime/CWorkload.c", 31, SCOPEPROF_KIND_FREE);
  volatile int i;
  int total = 0;
  for (i = 0; i < n; ++i) {
    if (!setjmp(recovery))
      fail_deep(2);
    total += square(i);
  }
  return total;
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "jump") == 0)
    return recover(atoi(argv[2])) < 0;
  int n = argc > 1 ? atoi(argv[1]) : 0;
  return n > 0 && sum_squares(n) < 0;
}
