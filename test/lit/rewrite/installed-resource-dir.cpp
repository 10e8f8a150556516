// The installed rewriter finds clang's builtin headers wherever it runs from.
// RUN: rm -rf %t && mkdir -p %t/elsewhere && cd %t/elsewhere
// RUN: %installed_bindir/scopeprof-rewrite --list %s -- -std=c++17 | FileCheck %s
#include <cstdint>
#include <stddef.h>
#include <vector>

size_t total(const std::vector<std::uint32_t> &V) {
  size_t Sum = 0;
  for (auto X : V)
    Sum += X;
  return Sum;
}
// CHECK: total
