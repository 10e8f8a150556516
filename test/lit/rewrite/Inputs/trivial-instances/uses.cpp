#include "pool.h"
int uses() { Pool<int> P; P.put(1); return P.Size; }
