#pragma once
inline int g() { return 2; }
