#include "guard.hpp"
int b() {
  ns::Guard<3> g(2);
  int *p = g;
  return p ? 0 : g.depth;
}
