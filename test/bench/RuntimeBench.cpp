// Cost of a profiling scope, measured beside an in-run lower bound (two rdtsc + a 24-byte
// thread-local store), plus throughput, disk bytes per call and memory per thread.
#include "scopeprof/scope.h"

#include <benchmark/benchmark.h>

#include <dirent.h>
#include <string>
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

// An empty loop, to subtract the benchmark's own per-iteration cost from the disabled site.
void BM_EmptyLoop(benchmark::State &State) {
  for (auto _ : State)
    benchmark::ClobberMemory();
}
BENCHMARK(BM_EmptyLoop);

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
