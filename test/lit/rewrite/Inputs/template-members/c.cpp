#include "guard.hpp"
int a();
int b();
int main() { return a() == 10 && b() == 2 ? 0 : 1; }
