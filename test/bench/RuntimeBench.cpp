// Cost of a profiling scope, measured beside an in-run lower bound (two rdtsc + a 24-byte
// thread-local store), plus throughput, disk bytes per call and memory per thread.
#include "scopeprof/scope.h"

#include <benchmark/benchmark.h>

#include <dirent.h>
#include <string>
#include <vector>
#include <sys/stat.h>

namespace {

struct alignas(64) LowerBoundBuffer {
  scopeprof_record Records[4096];
  unsigned Pos;
};
thread_local LowerBoundBuffer Lower;

// The least any recorder must do per call: read the clock twice and store a record.
void BM_LowerBound(benchmark::State &State) {
  for (auto _ : State) {
    uint64_t Start = __builtin_ia32_rdtsc();
    benchmark::ClobberMemory();
    uint64_t End = __builtin_ia32_rdtsc();
    scopeprof_record &R = Lower.Records[Lower.Pos++ & 4095];
    R.meta = 7;
    R.start = Start;
    R.end = End;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_LowerBound)->Threads(1)->Threads(2);

// One enabled scope per iteration, including handing buffers to the writer thread.
void BM_EnabledScope(benchmark::State &State) {
  for (auto _ : State) {
    SCOPEPROF_FN(0xbe0001, "bench::enabled()", "test/bench/RuntimeBench.cpp", __LINE__,
                 SCOPEPROF_KIND_FREE);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_EnabledScope)->Threads(1)->Threads(2);

// A site the run-time rules switched off: one load and a branch.
void BM_DisabledSite(benchmark::State &State) {
  scopeprof_set_rules("exclude function:bench::disabled\n");
  for (auto _ : State) {
    SCOPEPROF_FN(0xbe0002, "bench::disabled()", "test/bench/RuntimeBench.cpp", __LINE__,
                 SCOPEPROF_KIND_FREE);
    benchmark::ClobberMemory();
  }
  scopeprof_set_rules("");
}
BENCHMARK(BM_DisabledSite);

// A site the auto-throttle cut, its state set here as the writer sets it (the throttle would
// take its time to judge): sampled, a countdown per call and one call in about 64 recorded
// (no CPU samples); marked, the thread's open mark set and restored per call, nothing recorded
// (CPU samples on, calls long enough). A site cut off costs what BM_DisabledSite does.
template <uint32_t CutState> void BM_CutSite(benchmark::State &State) {
  for (auto _ : State) {
    SCOPEPROF_FN(0xbe0003, "bench::cut()", "test/bench/RuntimeBench.cpp", __LINE__,
                 SCOPEPROF_KIND_FREE);
    if (__builtin_expect(scopeprof_site_.state == SCOPEPROF_SITE_ON, 0))
      __atomic_store_n(&scopeprof_site_.state, CutState, __ATOMIC_RELAXED);
    benchmark::ClobberMemory();
  }
}
BENCHMARK_TEMPLATE(BM_CutSite, SCOPEPROF_SITE_SAMPLED)->Name("BM_SampledSite");
BENCHMARK_TEMPLATE(BM_CutSite, SCOPEPROF_SITE_MARKED)->Name("BM_MarkedSite");

// Allocation counting from the scope's side: 0, a site that is simply on (no counters: the
// default cost); 1, the site counts (its state as SCOPEPROF_COUNTERS=memory or a `counters
// memory` rules line sets it: the static runtime here has no counting malloc, so the bit is set
// directly) and each call allocates and frees one block as the counting malloc and free would
// count them (the allocation itself is not the scope's cost), so the scope writes its
// allocations unit besides its record.
void BM_CountingScope(benchmark::State &State) {
  const bool Counting = State.range(0) != 0;
  scopeprof_site *Site = nullptr;
  for (auto _ : State) {
    SCOPEPROF_FN(0xbe0004, "bench::counting()", "test/bench/RuntimeBench.cpp", __LINE__,
                 SCOPEPROF_KIND_FREE);
    Site = &scopeprof_site_;
    if (Counting) {
      if (__builtin_expect(scopeprof_site_.state == SCOPEPROF_SITE_ON, 0))
        __atomic_store_n(&scopeprof_site_.state, SCOPEPROF_SITE_ON | SCOPEPROF_SITE_COUNT,
                         __ATOMIC_RELAXED);
      scopeprof_thread &T = scopeprof_tls;
      ++T.allocs;
      T.alloc_bytes += 64;
      T.live_bytes += 80;
      if (static_cast<int64_t>(T.live_bytes - T.peak_bytes) > 0)
        T.peak_bytes = T.live_bytes;
      T.live_bytes -= 80;
    }
    benchmark::ClobberMemory();
  }
  if (Site && Site->state == (SCOPEPROF_SITE_ON | SCOPEPROF_SITE_COUNT))
    __atomic_store_n(&Site->state, uint32_t{SCOPEPROF_SITE_ON}, __ATOMIC_RELAXED);
}
BENCHMARK(BM_CountingScope)->Arg(0)->Arg(1);

// An empty loop, to subtract the benchmark's own per-iteration cost from the disabled site.
void BM_EmptyLoop(benchmark::State &State) {
  for (auto _ : State)
    benchmark::ClobberMemory();
}
BENCHMARK(BM_EmptyLoop);

// A scope inside real work: each call first reads a few lines of a working set (a pseudo-random
// walk, so the prefetcher cannot hide it), as a program's functions touch its data. The site is
// on (arg 1) or switched off by rules (arg 0): the difference is what a recorded call costs in
// a program whose data competes with the recorder's buffers for the caches.
std::vector<uint64_t> &workingSet(size_t Bytes) {
  static std::vector<uint64_t> Set;
  Set.assign(Bytes / sizeof(uint64_t), 1);
  return Set;
}
__attribute__((noinline)) uint64_t work(const std::vector<uint64_t> &Set, uint64_t &Cursor,
                                        bool) {
  SCOPEPROF_FN(0xbe0004, "bench::work()", "test/bench/RuntimeBench.cpp", __LINE__,
               SCOPEPROF_KIND_FREE);
  uint64_t Sum = 0;
  for (int I = 0; I < 4; ++I) {
    Cursor = (Cursor * 6364136223846793005ull + 1442695040888963407ull);
    Sum += Set[(Cursor >> 20) % Set.size()];
  }
  return Sum;
}
void BM_ScopeInWorkingSet(benchmark::State &State) {
  auto &Set = workingSet(static_cast<size_t>(State.range(0)) * 1024);
  scopeprof_set_rules(State.range(1) ? "" : "exclude function:bench::work\n");
  uint64_t Cursor = 1, Sum = 0;
  for (auto _ : State)
    Sum += work(Set, Cursor, true);
  benchmark::DoNotOptimize(Sum);
  scopeprof_set_rules("");
}
BENCHMARK(BM_ScopeInWorkingSet)->ArgsProduct({{16, 256, 4096, 65536}, {0, 1}});

uint64_t directoryBytes(const std::string &Dir) {
  uint64_t Total = 0;
  DIR *D = opendir(Dir.c_str());
  if (!D)
    return 0;
  while (dirent *E = readdir(D)) {
    struct stat St;
    if (stat((Dir + "/" + E->d_name).c_str(), &St) == 0 && S_ISREG(St.st_mode))
      Total += static_cast<uint64_t>(St.st_size);
  }
  closedir(D);
  return Total;
}

// Bytes each call adds to the log, and the recorder's memory per thread.
void BM_DiskAndMemory(benchmark::State &State) {
  const char *Dir = scopeprof_run_dir();
  scopeprof_flush();
  uint64_t Before = Dir ? directoryBytes(Dir) : 0;
  uint64_t Calls = 0;
  for (auto _ : State) {
    SCOPEPROF_FN(0xbe0003, "bench::disk()", "test/bench/RuntimeBench.cpp", __LINE__,
                 SCOPEPROF_KIND_FREE);
    ++Calls;
  }
  scopeprof_flush();
  uint64_t After = Dir ? directoryBytes(Dir) : 0;
  State.counters["bytes_per_call"] =
      Calls ? static_cast<double>(After - Before) / static_cast<double>(Calls) : 0;
  State.counters["buffer_bytes_per_thread"] = 2.0 * 128 * 1024;
}
BENCHMARK(BM_DiskAndMemory);

} // namespace

BENCHMARK_MAIN();
