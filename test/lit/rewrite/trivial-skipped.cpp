// Trivial functions get no scope by default: getters, setters, predicates, small arithmetic,
// forwarding to other trivial functions, standard-library accessors inlined.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>%t/summary
// RUN: cmp %s %t/in.cpp
// RUN: FileCheck --input-file=%t/summary %s --check-prefix=SUMMARY
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
// RUN: %scopeprof-rewrite --explain %s -- -std=c++17 2>/dev/null | FileCheck %s --check-prefix=EXPLAIN
// RUN: %scopeprof-rewrite --list %s -- -std=c++17 2>/dev/null | FileCheck %s --check-prefix=LIST
#include <cassert>
#include <vector>
namespace ns {
class Point {
public:
  int x() const { return X; }
  void setX(int V) { X = V; }
  bool isOrigin() const { return X == 0 && Y == 0; }
  int manhattan() const { return abs(X) + abs(Y); }
  int checked() const { assert(X >= 0); return X; }
private:
  static int abs(int V) { return V < 0 ? -V : V; }
  int X = 0, Y = 0;
};
inline int scaled(const Point &P, int K) { return P.x() * K; }
struct Holder {
  std::vector<int> Values;
  std::size_t count() const { return Values.size(); }
  int first() const { return Values.empty() ? 0 : Values[0]; }
};
}
int area(int W, int H) { return W * H; }
// SUMMARY: scopeprof: 0 file(s) rewritten, 0 function(s) instrumented, 10 trivial
// EXPLAIN: trivial-skipped.cpp:15: trivial: ns::Point::x() const [method] (no trivial: rule matched: the default) (trivial: 3 of 200 AST nodes inlined)
// EXPLAIN: trivial-skipped.cpp:16: trivial: ns::Point::setX(int) [method]
// EXPLAIN: trivial-skipped.cpp:17: trivial: ns::Point::isOrigin() const [method]
// EXPLAIN: trivial-skipped.cpp:18: trivial: ns::Point::manhattan() const [method]
// EXPLAIN: trivial-skipped.cpp:19: trivial: ns::Point::checked() const [method]
// EXPLAIN: trivial-skipped.cpp:21: trivial: ns::Point::abs(int) [method,static]
// EXPLAIN: trivial-skipped.cpp:24: trivial: ns::scaled(const Point &, int) [free]
// EXPLAIN: trivial-skipped.cpp:27: trivial: ns::Holder::count() const [method]
// EXPLAIN: trivial-skipped.cpp:28: trivial: ns::Holder::first() const [method]
// EXPLAIN: trivial-skipped.cpp:31: trivial: area(int, int) [free]
// LIST: trivial-skipped.cpp:15: trivial: ns::Point::x() const [method]{{$}}
