// Instrumented by hand the way the rewriter does it.
#include "scopeprof/scope.h"

int work(int N) {
  SCOPEPROF_FN(0x1234, "work(int)", "main.cpp", 4, SCOPEPROF_KIND_FREE);
  return N * 2;
}

int main() {
  int Sum = 0;
  for (int I = 0; I < 10; ++I)
    Sum += work(I);
  return Sum == 90 ? 0 : 1;
}
