// Counters chosen per function (rules' `counters` lines, also sent by `scopeprof ctl`) and the
// peak of live bytes per call; linked with the shared runtime. check_db.py's counters-* and
// memory-peak scenarios know every figure: the allocator's usable sizes are printed first.
#include "scopeprof/scope.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <malloc.h>
#include <string>
#include <thread>

#define FN(ID, SIG)                                                                                \
  SCOPEPROF_FN(ID, SIG, "test/runtime/CountersWorkload.cpp", __LINE__, SCOPEPROF_KIND_FREE)

namespace {

void keep(void *P) { asm volatile("" : : "r"(P) : "memory"); }

// 3 KiB, freed, then 5 KiB, freed: 2 allocations, 8192 bytes, peak one 5 KiB block.
__attribute__((noinline)) void leaf() {
  FN(0x401, "leaf()");
  char *A = new char[3072];
  keep(A);
  delete[] A;
  char *B = new char[5120];
  keep(B);
  delete[] B;
}

// Keeps 1 KiB while leaf() runs twice: peak 1 KiB + 5 KiB; self bytes 1024.
__attribute__((noinline)) void holder() {
  FN(0x402, "holder()");
  char *K = new char[1024];
  keep(K);
  leaf();
  leaf();
  delete[] K;
}

// 3 KiB and 5 KiB live together, then a realloc of the 5 KiB block to 8 KiB: peak 3 + 8 KiB,
// as usable sizes (a realloc in place may keep a larger block: GrowPeak says what it was).
size_t GrowPeak = 0;
__attribute__((noinline)) void grow() {
  FN(0x403, "grow()");
  char *A = static_cast<char *>(std::malloc(3072));
  char *B = static_cast<char *>(std::malloc(5120));
  keep(A);
  keep(B);
  B = static_cast<char *>(std::realloc(B, 8192));
  keep(B);
  GrowPeak = malloc_usable_size(A) + malloc_usable_size(B);
  std::free(A);
  std::free(B);
}

// Frees a block another call allocated, then allocates 100 bytes: the thread's live bytes never
// rise above their value at the start, so the peak is 0.
__attribute__((noinline)) void freesFirst(char *Other) {
  FN(0x404, "freesFirst(char *)");
  std::free(Other);
  char *P = static_cast<char *>(std::malloc(100));
  keep(P);
  std::free(P);
}

// Allocates 4 KiB that another thread frees: that free lowers the other thread's live bytes.
__attribute__((noinline)) char *allocateForOther() {
  FN(0x405, "allocateForOther()");
  char *P = static_cast<char *>(std::malloc(4096));
  keep(P);
  return P;
}

// Per-function counters: the rules count countedParent() only.
__attribute__((noinline)) void uncountedChild() {
  FN(0x406, "uncountedChild()");
  char *B = new char[5120];
  keep(B);
  delete[] B;
}

__attribute__((noinline)) void countedParent() {
  FN(0x407, "countedParent()");
  char *A = new char[3072];
  keep(A);
  delete[] A;
  uncountedChild();
}

// Live control: leaf() calls before and after the rules arrive.
__attribute__((noinline)) void work() {
  FN(0x408, "work()");
  leaf();
}

size_t usable(size_t Bytes) {
  void *P = std::malloc(Bytes);
  size_t U = malloc_usable_size(P);
  std::free(P);
  return U;
}

} // namespace

int main(int argc, char **argv) {
  std::string Mode = argc > 1 ? argv[1] : "";
  std::printf("usable %zu %zu %zu %zu\n", usable(1024), usable(3072), usable(5120), usable(4096));
  std::fflush(stdout);
  if (Mode == "peak") {
    for (int I = 0; I < 10; ++I)
      leaf();
    holder();
    grow();
    freesFirst(static_cast<char *>(std::malloc(2048)));
    char *P = allocateForOther();
    std::thread([P] { freesFirst(P); }).join();
    std::printf("grow %zu\n", GrowPeak);
  } else if (Mode == "rules") {
    for (int I = 0; I < 10; ++I)
      countedParent();
    leaf();
  } else if (Mode == "live") {
    for (int I = 0; I < 10; ++I)
      work();
    std::printf("ready\n");
    std::fflush(stdout);
    std::string Line;
    std::getline(std::cin, Line); // the test has sent the rules
    for (int I = 0; I < 10; ++I)
      work();
  } else {
    std::fprintf(stderr, "usage: runtime-counters-workload peak|rules|live\n");
    return 2;
  }
  return 0;
}
