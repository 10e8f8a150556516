#pragma once
#include <string>
int core_sum(int n);
std::string util_name(int n);
inline int core_twice(int n) { std::string s(static_cast<size_t>(n), 'x'); return static_cast<int>(s.size()) * 2; }
