// Coroutines are skipped: a scope at the body's start would end at the first suspension.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++20 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t/in.cpp
// RUN: %scopeprof-rewrite --explain %s -- -std=c++20 2>/dev/null | FileCheck %s --check-prefix=EXPLAIN
#include <coroutine>
struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
Task counter(int n) { for (int i = 0; i < n; ++i) co_await std::suspend_never{}; }
int caller() { counter(3); return 0; }
// EXPLAIN: coroutine.cpp:17: coroutine: counter(int) [free]
// EXPLAIN: coroutine.cpp:18: instrumented: caller() [free]
// CHECK: {{^}}Task counter(int n) { for
// CHECK-NEXT: {{^}}int caller() { SCOPEPROF_FN(
