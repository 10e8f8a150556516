#define NS ns
#include "common.hpp"
int b();
int main() {
  ns::Node n = {1};
  return ns::f(n, "x") + b() == 4 ? 0 : 1;
}
