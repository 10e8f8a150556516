/* Strict C: a rewritten C89 file compiles under -pedantic-errors -Werror and the strictest
 * warnings of gcc and clang, in every C standard, and runs. The scope is a declaration, so the
 * user's declarations after it still come before any statement. (C89 has no // comments.)
RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.c && echo 'include trivial:**' > %t/.scopeprof
RUN: %scopeprof-rewrite --in-place %t/in.c -- -std=c89 -pedantic 2>/dev/null
RUN: FileCheck --input-file=%t/in.c %s
RUN: for std in c89 c99 c11 c17; do gcc -std=$std -pedantic-errors -Werror -Wall -Wextra -Wconversion -Wsign-conversion -Wmissing-prototypes -Wstrict-prototypes -Wold-style-definition -Wdeclaration-after-statement -Wshadow -Wcast-qual -Wcast-align -Wundef -Wc++-compat -Wwrite-strings -Wlong-long -Wpadded -Wredundant-decls -Wnested-externs -Wswitch-default -Wtraditional-conversion -Wbad-function-cast -Wjump-misses-init -Wunused-macros -I%runtime_include -c %t/in.c -o %t/gcc.o || exit 1; done
RUN: for std in c89 c99 c11 c17; do %clang -std=$std -pedantic-errors -Werror -Weverything -I%runtime_include -c %t/in.c -o %t/clang.o || exit 1; done
RUN: %clang -std=c89 -I%runtime_include %t/in.c -o %t/prog -L%runtime_lib -Wl,-rpath,%runtime_lib -lscopeprof
RUN: env SCOPEPROF_OUT=%t/runs %t/prog
RUN: %scopeprof dump --no-times %t/runs | FileCheck %s --check-prefix=CALLS
*/
int scale(int x);
static int twice(int x) {
  int y = x;
  y += x;
  return y;
}
int scale(int x) {
  int total;
  unsigned long big = 0xfffffffful;
  total = twice(x) + (int)(big & 1ul);
  return total;
}
int main(void) {
  int r = scale(3);
  return r == 7 ? 0 : 1;
}
/*
CHECK: static int twice(int x) { SCOPEPROF_FN({{0x[0-9a-f]+}}, "twice(int)", "in.c", 14, 65);
CHECK: int scale(int x) { SCOPEPROF_FN({{0x[0-9a-f]+}}, "scale(int)", "in.c", 19, 1);
CHECK: int main(void) { SCOPEPROF_FN({{0x[0-9a-f]+}}, "main()", "in.c", 25, 1);
CALLS-DAG: call depth=2 twice(int)
CALLS-DAG: call depth=1 scale(int)
CALLS-DAG: call depth=0 main()
*/
