#include "answer.h"
#include <cstdio>
static int report(int v) { std::vector<int> digits; for (; v; v /= 10) digits.push_back(v % 10); return static_cast<int>(digits.size()); }
int main() { std::printf("%d %d\n", answer(), report(answer())); return 0; }
