#include "shapes.h"
#include <cstdio>
int main() { std::vector<double> v{1, 2, 3}; std::printf("%g\n", total_area(v)); return 0; }
