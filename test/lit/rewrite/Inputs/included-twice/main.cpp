#define BOX_T int
#include "box.inc"
#undef BOX_T
#define BOX_T double
#include "box.inc"
#undef BOX_T
int main() {
  int i = 1;
  double d = 2;
  return unbox(&i) + static_cast<int>(unbox(&d)) == 3 ? 0 : 1;
}
