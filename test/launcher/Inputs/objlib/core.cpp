#include "core.h"
int core_sum(int n) { int s = 0; for (int i = 0; i < n; ++i) s += core_twice(i); return s; }
