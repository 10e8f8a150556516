// A cases file, its main from the installed scopeprof::cases (scopeprof-cases.pc).
#include <scopeprof/cases.h>

int work(int N) {
  SCOPEPROF_FN(0x1235, "work(int)", "cases.cpp", 4, SCOPEPROF_KIND_FREE);
  return N * 2;
}

SCOPEPROF_FREE_CASE(Smoke, work) {
  if (work(21) != 42)
    throw 1;
}
