#include "cyc.h"
int odd(int N);
int even(int N) { return N == 0 ? 1 : odd(N - 1); }
