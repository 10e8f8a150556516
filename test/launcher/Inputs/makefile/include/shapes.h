#pragma once
#include <vector>
double total_area(const std::vector<double> &sides);
