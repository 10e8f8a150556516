#include "version.hpp"
bool older(const Version &A, const Version &B);
int main() {
  Version A{1}, B{2};
  return (A <=> B) && older(A, B) ? 0 : 1;
}
