int even(int N);
int odd(int N) { return N == 0 ? 0 : even(N - 1); }
int parity(int N) { return even(N); }
#include "cyc.h"
int back(int N) { return N ? forth(N - 1) : 1; }
