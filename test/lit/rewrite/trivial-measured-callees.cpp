// A call of a project function that is not trivial costs its caller one node, not the callee's
// body: the callee's time is its own, measured by its scope wherever its body is. Only a
// function the rewriter gives a scope counts so: not one the rules exclude, nor one outside the
// project (a library's); those keep their callers instrumented. A project function defined in no
// file of the run is trusted as any other (the rewriter cannot tell it from one in another unit). A constexpr function has no
// scope: its visible body is inlined as any trivial callee's (trivial-odr.test: an invisible one).
// RUN: rm -rf %t && mkdir -p %t/project %t/vendor && cp %s %t/project/in.cpp
// RUN: printf 'int vendored(int);\n' > %t/vendor/vendor.h
// RUN: printf 'exclude function:excluded\n' > %t/project/.scopeprof
// RUN: %scopeprof-rewrite --explain %t/project/in.cpp -- -std=c++17 -I%t/vendor 2>/dev/null | FileCheck %s
#include "vendor.h"
int measured(int);
int neverDefined(int);
int excluded(int V) { int S = 0; for (int I = 0; I < V; ++I) S += I; return S; }
constexpr int folded(int V);
int thin(int V) { return measured(V) + 1; }
int fastPath(int V) { return V < 8 ? V : measured(V); }
int callsUndefined(int V) { return neverDefined(V) + 1; }
int callsExcluded(int V) { return excluded(V) + 1; }
int callsVendored(int V) { return vendored(V) + 1; }
int callsConstexpr(int V) { return folded(V) + 1; }
constexpr int folded(int V) { return V * 2; }
int measured(int V) { int S = 0; for (int I = 0; I < V; ++I) S += I * I; return S; }
// CHECK: in.cpp:14: excluded by rule: excluded(int) [free]
// CHECK: in.cpp:16: trivial: thin(int) [free] {{.*}}(trivial: 7 of 200 AST nodes inlined)
// CHECK: in.cpp:17: trivial: fastPath(int) [free]
// CHECK: in.cpp:18: trivial: callsUndefined(int) [free]
// CHECK: in.cpp:19: instrumented: callsExcluded(int) [free] {{.*}}(not trivial: via 'excluded': loop at in.cpp:14)
// CHECK: in.cpp:20: instrumented: callsVendored(int) [free] {{.*}}(not trivial: calls 'vendored' (no body visible) at in.cpp:20)
// CHECK: in.cpp:21: trivial: callsConstexpr(int) [free]
// CHECK: in.cpp:23: instrumented: measured(int) [free] {{.*}}(not trivial: loop at in.cpp:23)
