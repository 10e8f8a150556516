#include "pool.h"
#include <string>
int uses() { Pool<int> P; P.put(1); return P.Size; }
int holds() { Holder<int> H; H.set(2L); Holder<std::string> S; return H.Value + int(S.Value.size()); }
