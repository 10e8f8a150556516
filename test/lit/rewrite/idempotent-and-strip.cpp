// Rewriting a rewritten file changes nothing; --strip then gives back the original, byte for byte.
// RUN: rm -rf %t && mkdir -p %t/src && cp %s %t/src/in.cpp && cp %s %t/original.cpp && echo 'include trivial:**' > %t/src/.scopeprof
// RUN: %scopeprof-rewrite --in-place %t/src/in.cpp -- -std=c++17 2>/dev/null
// RUN: cp %t/src/in.cpp %t/once.cpp
// RUN: %scopeprof-rewrite --in-place %t/src/in.cpp -- -std=c++17 2>&1 | FileCheck %s --check-prefix=AGAIN
// RUN: cmp %t/src/in.cpp %t/once.cpp
// RUN: %scopeprof-rewrite --strip %t/src 2>&1 | FileCheck %s --check-prefix=STRIP
// RUN: cmp %t/src/in.cpp %t/original.cpp
int f(int v) { return v; }
struct S { int g() const { return 1; } };
// AGAIN: 0 file(s) rewritten, 0 function(s) instrumented, 2 already instrumented
// STRIP: scopeprof: stripped 3 insertion(s) from 1 file(s)
