// In-class and out-of-line methods, cv/ref qualifiers, virtual/override/final, static.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp && echo 'include trivial:**' > %t/.scopeprof
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
namespace app {
struct Base {
  virtual ~Base() {}
  virtual int f() const { return 1; }
  virtual int pure() = 0;
};
int Base::pure() { return 0; }
struct D final : Base {
  int f() const override { return 2; }
  int pure() final { return 3; }
  int r() && { return 4; }
  int v() volatile { return 5; }
  static int s() { return 6; }
  int outOfLine(const char *p, unsigned long n);
};
int D::outOfLine(const char *p, unsigned long n) { return p[n]; }
}
// CHECK: "app::Base::~Base()", "in.cpp", 7, 10);
// CHECK: "app::Base::f() const", "in.cpp", 8, 2);
// CHECK: "app::Base::pure()", "in.cpp", 11, 2);
// CHECK: "app::D::f() const", "in.cpp", 13, 2);
// CHECK: "app::D::pure()", "in.cpp", 14, 2);
// CHECK: "app::D::r() &&", "in.cpp", 15, 2);
// CHECK: "app::D::v() volatile", "in.cpp", 16, 2);
// CHECK: "app::D::s()", "in.cpp", 17, 66);
// CHECK: "app::D::outOfLine(const char *, unsigned long)", "in.cpp", 20, 2);
