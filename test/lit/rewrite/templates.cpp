// Templates: once at the template, never per instantiation; specializations by themselves.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp && echo 'include trivial:**' > %t/.scopeprof
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
namespace ns {
template <typename T> struct Vec {
  void push(const T &v) { last = v; }
  T last;
};
template <typename T> T twice(T v) { return v + v; }
template <> int twice<int>(int v) { return 2 * v; }
template <typename T> struct Vec<T *> {
  void push(T *v) { last = v; }
  T *last;
};
}
int use() { ns::Vec<int> a; a.push(1); ns::Vec<double> b; b.push(2); ns::Vec<int *> c; c.push(nullptr); return ns::twice(1) + ns::twice(2.0); }
// CHECK-COUNT-1: "ns::Vec<T>::push(const T &)", "in.cpp", 8, 130);
// CHECK: "ns::twice(T)", "in.cpp", 11, 129);
// CHECK: "ns::twice<int>(int)", "in.cpp", 12, 1);
// CHECK: "ns::Vec<T *>::push(T *)", "in.cpp", 14, 130);
// CHECK: "use()", "in.cpp", 18, 1);
