// Strict C++: a rewritten file compiles under -pedantic-errors -Werror and the strictest
// warnings of gcc and clang from C++98 to C++23 (C++98/03 get the header's C form), and runs.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp && echo 'include trivial:**' > %t/.scopeprof
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++98 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: for std in c++98 c++03 c++11 c++14 c++17 c++20 c++23; do g++ -std=$std -pedantic-errors -Werror -Wall -Wextra -Wconversion -Wsign-conversion -Wshadow -Wcast-qual -Wundef -Wold-style-cast -Wuseless-cast -Wzero-as-null-pointer-constant -Wmissing-declarations -Wredundant-decls -Wnon-virtual-dtor -Wlong-long -Wpadded -Wctor-dtor-privacy -Wsign-promo -Wswitch-default -I%runtime_include -c %t/in.cpp -o %t/gcc.o || exit 1; done
// RUN: for std in c++98 c++03 c++11 c++14 c++17 c++20 c++23; do %clangxx -std=$std -pedantic-errors -Werror -Weverything -Wno-c++98-compat -Wno-c++98-compat-pedantic -I%runtime_include -c %t/in.cpp -o %t/clang.o || exit 1; done
// RUN: for std in c++98 c++17; do %clangxx -std=$std -I%runtime_include %t/in.cpp -o %t/prog-$std -L%runtime_lib -Wl,-rpath,%runtime_lib -lscopeprof && env SCOPEPROF_OUT=%t/runs-$std %t/prog-$std || exit 1; done
// RUN: %scopeprof dump --no-times %t/runs-c++98 | FileCheck %s --check-prefix=CALLS
// RUN: %scopeprof dump --no-times %t/runs-c++17 | FileCheck %s --check-prefix=CALLS
namespace ns {
template <int MaxDepth> class Guard {
public:
  Guard() : Depth(MaxDepth) {}
  ~Guard() { Depth = 0; }
  int depth() const { return Depth; }

private:
  int Depth;
};
int run(int X);
int run(int X) {
  Guard<3> G;
  return X + G.depth();
}
} // namespace ns
int main() {
  return ns::run(1) == 4 ? 0 : 1;
}
// CHECK: ~Guard() { SCOPEPROF_FN({{.*}}, "ns::Guard<MaxDepth>::~Guard()", "in.cpp", 15, 138);
// CHECK: int run(int X) { SCOPEPROF_FN({{.*}}, "ns::run(int)", "in.cpp", 22, 1);
// CHECK: int main() { SCOPEPROF_FN({{.*}}, "main()", "in.cpp", 27, 1);
// CALLS-DAG: call depth=2 ns::Guard<MaxDepth>::~Guard()
// CALLS-DAG: call depth=1 ns::run(int)
// CALLS-DAG: call depth=0 main()
