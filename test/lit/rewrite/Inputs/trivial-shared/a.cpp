#include "box.h"
int defined_in_a() { return 1; }
int a() { Box<int> B; return B.ref() + B.copy() + B.same(2) + int(B.size()) + fromA(); }
