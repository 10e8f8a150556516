// Operators: comparison, stream, call, conversion, user-defined literal.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp && echo 'include trivial:**' > %t/.scopeprof
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
#include <ostream>
namespace ns {
struct S {
  bool operator<(const S &) const { return false; }
  int operator()(int v) { return v; }
  explicit operator bool() const { return true; }
};
std::ostream &operator<<(std::ostream &os, const S &) { return os; }
unsigned long long operator""_km(unsigned long long v) { return v * 1000; }
}
// CHECK: "ns::S::operator<(const S &) const", "in.cpp", 9, 18);
// CHECK: "ns::S::operator()(int)", "in.cpp", 10, 18);
// CHECK: "ns::S::operator bool() const", "in.cpp", 11, 18);
// CHECK: "ns::operator<<(std::ostream &, const S &)", "in.cpp", 13, 17);
// CHECK: "ns::operator\"\"_km(unsigned long long)", "in.cpp", 14, 17);
