#include "core.h"
std::string util_name(int n) { std::string s; for (int i = 0; i < n; ++i) s += 'u'; return s; }
