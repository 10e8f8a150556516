#include "core.h"
#include <cstdio>
int main() { std::printf("%d %s\n", core_sum(10), util_name(3).c_str()); return 0; }
