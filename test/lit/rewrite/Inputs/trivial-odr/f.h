#pragma once
inline int g();
inline int f() { return g() + 1; }
