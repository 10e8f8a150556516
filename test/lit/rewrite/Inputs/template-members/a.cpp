#include "guard.hpp"
int a() {
  ns::Guard<> g;
  ns::Guard<> copy(g);
  return copy ? copy.depth : 0;
}
