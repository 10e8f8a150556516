// `include trivial:**` in the rules file takes every trivial function back: full instrumentation.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp
// RUN: echo 'include trivial:**' > %t/.scopeprof
// RUN: %scopeprof-rewrite --explain %t/in.cpp -- -std=c++17 2>/dev/null | FileCheck %s --check-prefix=EXPLAIN
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>%t/summary
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: FileCheck --input-file=%t/summary %s --check-prefix=SUMMARY
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
// Other rules still decide inclusion: an excluded function stays excluded.
// RUN: printf 'include trivial:**\nexclude function:ns::hidden\n' > %t/.scopeprof
// RUN: cp %s %t/in.cpp && %scopeprof-rewrite --explain %t/in.cpp -- -std=c++17 2>/dev/null | FileCheck %s --check-prefix=EXCLUDED
namespace ns {
int get(int V) { return V; }
int hidden(int V) { return V; }
}
int area(int W, int H) { return W * H; }
// CHECK: {{^}}int get(int V) { SCOPEPROF_FN(
// CHECK: {{^}}int hidden(int V) { SCOPEPROF_FN(
// CHECK: {{^}}int area(int W, int H) { SCOPEPROF_FN(
// SUMMARY: scopeprof: 1 file(s) rewritten, 3 function(s) instrumented{{$}}
// EXPLAIN: in.cpp:13: instrumented: ns::get(int) [free] (rule line 1: include trivial:**) (trivial: 2 of 200 AST nodes inlined)
// EXCLUDED: in.cpp:13: instrumented: ns::get(int) [free] (rule line 1: include trivial:**)
// EXCLUDED: in.cpp:14: excluded by rule: ns::hidden(int) [free] (rule line 2: exclude function:ns::hidden){{$}}
