#pragma once
constexpr int g();
inline int f() { return g() + 1; }
