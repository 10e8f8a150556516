// `include trivial:GLOB` takes back only the trivial functions whose qualified name matches;
// among trivial: lines the last match wins. Rewriting the result again changes nothing.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp
// RUN: printf 'include trivial:ns::get*\nexclude trivial:ns::getSecret\n' > %t/.scopeprof
// RUN: %scopeprof-rewrite --explain %t/in.cpp -- -std=c++17 2>/dev/null | FileCheck %s --check-prefix=EXPLAIN
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
// RUN: cp %t/in.cpp %t/once.cpp
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: cmp %t/in.cpp %t/once.cpp
// RUN: %scopeprof-rewrite --explain %t/in.cpp -- -std=c++17 2>/dev/null | FileCheck %s --check-prefix=AGAIN
namespace ns {
int getName(int V) { return V + 1; }
int getSecret(int V) { return V + 2; }
int size(int V) { return V + 3; }
int useName(int V) { return getName(V) * 2; }
}
// CHECK: {{^}}int getName(int V) { SCOPEPROF_FN(
// CHECK: {{^}}int getSecret(int V) { return
// CHECK: {{^}}int size(int V) { return
// CHECK: {{^}}int useName(int V) { return
// EXPLAIN: in.cpp:14: instrumented: ns::getName(int) [free] (rule line 1: include trivial:ns::get*)
// EXPLAIN: in.cpp:15: trivial: ns::getSecret(int) [free] (rule line 2: exclude trivial:ns::getSecret)
// EXPLAIN: in.cpp:16: trivial: ns::size(int) [free] (no trivial: rule matched: the default)
// EXPLAIN: in.cpp:17: trivial: ns::useName(int) [free] (no trivial: rule matched: the default)
// AGAIN: in.cpp:14: already instrumented: ns::getName(int) [free]
// AGAIN: in.cpp:17: trivial: ns::useName(int) [free]
