// Allocations of known sizes, for SCOPEPROF_COUNTERS=memory (linked with the shared runtime,
// whose malloc counts them). check_db.py's memory scenario knows every figure below.
// `initializers N`: allocations before a constructor's scope opens (CPU samples unwound).
#include "scopeprof/scope.h"

#include <cstdio>
#include <malloc.h>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#define FN(ID, SIG)                                                                                \
  SCOPEPROF_FN(ID, SIG, "test/runtime/MemoryWorkload.cpp", __LINE__, SCOPEPROF_KIND_FREE)

namespace {

// Keeps the compiler from eliding an allocation it can see is unused.
void keep(void *P) { asm volatile("" : : "r"(P) : "memory"); }

// Bytes child() allocates beyond its 8 KiB: the first argument, so that a second run can
// stand for a head build that allocates more (check_db.py's diff-allocs scenario).
size_t ExtraBytes = 0;

// 3 KiB then 5 KiB, freed before it returns: 2 allocations, 8192 bytes.
__attribute__((noinline)) void child() {
  FN(0x301, "child()");
  char *A = new char[3072];
  keep(A);
  char *B = new char[5120 + ExtraBytes];
  keep(B);
  delete[] A;
  delete[] B;
}

// Allocates nothing itself.
__attribute__((noinline)) void parent(int N) {
  FN(0x302, "parent(int)");
  for (int I = 0; I < N; ++I)
    child();
}

// One of each C allocation function: 7 allocations, 100 + 200 + 10 + 1000 + 256 + 512 + 4096.
__attribute__((noinline)) void cFunctions() {
  FN(0x303, "cFunctions()");
  void *M = std::malloc(100);
  void *C = std::calloc(10, 20);
  void *R = std::malloc(10);
  keep(R);
  R = std::realloc(R, 1000);
  void *A = aligned_alloc(64, 256);
  void *P = nullptr;
  if (posix_memalign(&P, 64, 512) != 0)
    std::abort();
  void *V = valloc(4096);
  for (void *X : {M, C, R, A, P, V}) {
    keep(X);
    std::free(X);
  }
}

// 4096 bytes freed by another thread: still this call's allocation.
__attribute__((noinline)) char *allocateForOther() {
  FN(0x304, "allocateForOther()");
  char *P = static_cast<char *>(std::malloc(4096));
  keep(P);
  return P;
}

__attribute__((noinline)) void thrower() {
  FN(0x305, "thrower()");
  char *Big = new char[1000];
  keep(Big);
  delete[] Big;
  throw std::runtime_error("thrown after allocating");
}

__attribute__((noinline)) void catcher() {
  FN(0x306, "catcher()");
  try {
    thrower();
  } catch (const std::exception &) {
  }
}

// CPU samples unwound through the runtime's malloc (check_db.py's cpu-samples-by-address):
// Mapped's member initializer allocates a block malloc takes from the kernel each time (mmap;
// munmap in the destructor), so the samples land in libc, under the runtime's malloc, before
// Mapped's scope opens.
struct Mapped {
  char *Block;
  Mapped() : Block(static_cast<char *>(std::malloc(1 << 20))) { FN(0x310, "Mapped::Mapped()"); }
  ~Mapped() {
    FN(0x312, "Mapped::~Mapped()");
    std::free(Block);
  }
};

__attribute__((noinline)) void mapper(int N) {
  FN(0x311, "mapper(int)");
  mallopt(M_MMAP_THRESHOLD, 64 * 1024); // fixed: freeing a mapped block would raise it
  for (int I = 0; I < N; ++I) {
    Mapped M;
    keep(M.Block);
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc > 2 && std::strcmp(argv[1], "initializers") == 0) {
    mapper(std::atoi(argv[2]));
    return 0;
  }
  if (argc > 1)
    ExtraBytes = std::strtoul(argv[1], nullptr, 10);
  parent(1000);
  cFunctions();
  char *P = allocateForOther();
  std::thread([P] { std::free(P); }).join();
  std::thread([] { parent(100); }).join();
  catcher();
  pid_t Pid = fork();
  if (Pid == 0) {
    parent(10);
    std::exit(0);
  }
  int Status = 0;
  waitpid(Pid, &Status, 0);
  return WIFEXITED(Status) && WEXITSTATUS(Status) == 0 ? 0 : 1;
}
