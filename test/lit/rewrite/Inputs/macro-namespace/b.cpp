#define NS ns2
#include "common.hpp"
int b() {
  ns2::Node n = {1};
  return ns2::f(n, "y");
}
