// A cases file as a user writes one (scopeprof/cases.h), with its functions instrumented the way
// the rewriter does it. check_cases.py knows every call each case and fixture makes.
#include <scopeprof/cases.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#define FN(ID, SIG) SCOPEPROF_FN(ID, SIG, "test/cases/Demo.cpp", __LINE__, SCOPEPROF_KIND_FREE)

namespace {

// Keeps the compiler from folding the work away.
void keep(void *P) { asm volatile("" : : "r"(P) : "memory"); }

__attribute__((noinline)) void prepare() { FN(0x501, "prepare()"); }
__attribute__((noinline)) void cleanup() { FN(0x502, "cleanup()"); }
__attribute__((noinline)) void fastWork() { FN(0x503, "fastWork()"); }
__attribute__((noinline)) void leaf() { FN(0x504, "leaf()"); }
__attribute__((noinline)) void threadWork() { FN(0x505, "threadWork()"); }

// Ten leaves here, and one call on a thread of its own: a case owns its process's calls on
// every thread.
__attribute__((noinline)) void slowWork() {
  FN(0x506, "slowWork()");
  for (int I = 0; I < 10; ++I)
    leaf();
  std::thread T(threadWork);
  T.join();
}

__attribute__((noinline)) void skippedWork() { FN(0x507, "skippedWork()"); }

// Two allocations, 1000 and 3000 bytes.
__attribute__((noinline)) void allocWork() {
  FN(0x508, "allocWork()");
  void *A = std::malloc(1000);
  keep(A);
  void *B = std::malloc(3000);
  keep(B);
  std::free(A);
  std::free(B);
}

__attribute__((noinline)) void plainWork() { FN(0x509, "plainWork()"); }
__attribute__((noinline)) void boomWork() {
  FN(0x50a, "boomWork()");
  throw std::runtime_error("boom");
}

} // namespace

// The fixture: setUp and tearDown call prepare() and cleanup(), outside the cases' intervals.
struct Demo : scopeprof::Case {
  void setUp() override { prepare(); }
  void tearDown() override { cleanup(); }
};

SCOPEPROF_CASE(Demo, fast) { fastWork(); }
SCOPEPROF_CASE(Demo, slow) { slowWork(); }
SCOPEPROF_CASE(Demo, skipped, scopeprof::skip()) { skippedWork(); }
SCOPEPROF_CASE(Demo, memoryOnly, scopeprof::accept("memory")) { allocWork(); }

SCOPEPROF_FREE_CASE(Other, plain, scopeprof::skip("memory")) { plainWork(); }
SCOPEPROF_FREE_CASE(Other, boom) { boomWork(); }
