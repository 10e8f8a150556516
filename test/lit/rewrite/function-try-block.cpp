// Function-try-blocks: the scope goes inside the try block, so it sees the body's exceptions
// and the handler stays as written.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
#include <stdexcept>
int risky(int v) try { if (v < 0) throw std::runtime_error("negative"); return v; } catch (const std::exception &) { return 0; }
struct Holder {
  int Value;
  Holder(int v) try : Value(risky(v)) { } catch (...) { throw; }
};
// CHECK: {{^}}int risky(int v) try { SCOPEPROF_FN({{.*}}"risky(int)"{{.*}}); if (v < 0)
// CHECK-SAME: catch (const std::exception &) { return 0; }
// CHECK: {{^}}  Holder(int v) try : Value(risky(v)) { SCOPEPROF_FN({{.*}}"Holder::Holder(int)"{{.*}}); } catch (...) { throw; }
// CHECK-NOT: ){{;}} SCOPEPROF_FN(
