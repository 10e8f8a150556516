// Runtime configuration from SCOPEPROF_* environment variables (docs/runtime.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace scopeprof::runtime {

struct Config {
  std::string OutDir = "scopeprof-out";
  std::string RunDir; ///< SCOPEPROF_RUN_DIR: set for children so they join the parent's run
  bool Enabled = true;
  std::string RulesFile;
  uint64_t MinDurationNs = 0;
  uint32_t MaxDepth = 0; ///< 0: unlimited
  size_t BufferBytes = 128 * 1024;
  /// SCOPEPROF_MAX_LOG_SIZE: past this many bytes of log per process, calls are counted per
  /// site instead of written one by one, so a long run never fills a disk. 0: no limit.
  size_t MaxLogBytes = size_t{2} << 30;
  /// SCOPEPROF_THROTTLE=CALLS:DURATION: a site whose mean call is shorter than DURATION after
  /// CALLS calls (and at every doubling after) is switched off. ThrottleCalls 0: never.
  uint64_t ThrottleCalls = 10'000;
  uint64_t ThrottleNs = 10'000;
  /// SCOPEPROF_THROTTLE's third part: what becomes of a cut site's calls. Off: none is recorded
  /// (its own time comes from the CPU samples, found by address), and a call costs a load and a
  /// branch; sampled: one in 64 is. Auto: off where CPU samples are taken, else sampled.
  enum ThrottleThen { ThenAuto, ThenOff, ThenSampled } Then = ThenAuto;
  bool DropWhenFull = false;
  bool RecordCmdline = true; ///< SCOPEPROF_RECORD_CMDLINE=0: the program's path, no arguments
  bool Verbose = false;
  /// SCOPEPROF_COUNTERS includes `cpu`: context switches are tracked, from which the loader
  /// derives each call's CPU time. On by default: it costs the hot path nothing.
  bool CountCpu = true;
  /// SCOPEPROF_COUNTERS includes `memory`: the shared runtime's malloc counts each thread's
  /// allocations, and every call records what it allocated (Memory.cpp). Off by default.
  bool CountMemory = false;
  /// SCOPEPROF_CPU_SAMPLES: every this many ns of a thread's CPU time, the site of its innermost
  /// open call is noted (Sampler.cpp); throttled sites get their own time from these. 0: off.
  /// 1 ms: on leveldb 4 ms gave too few samples to rank the throttled functions (Spearman 0.54
  /// against perf, 0.75 at 1 ms; docs/benchmarks.md). A signal can cost 70 us on a VM (7% at
  /// this rate): until samples decide anything, threads take one in 8 (samplesDecide()).
  uint64_t CpuSampleNs = 1'000'000;
  enum ClockKind { ClockAuto, ClockTsc, ClockMonotonic } Clock = ClockAuto;
};

/// Reads the environment. A bad value is reported once on stderr, naming the
/// variable, and the default is kept: the profiled program is never stopped.
Config readConfig();

/// "500", "500ns", "2us", "1.5ms", "1s" -> ns; false when malformed.
bool parseDuration(const char *Text, uint64_t &Ns);
/// "65536", "64K", "1M" -> bytes; false when malformed.
bool parseSize(const char *Text, size_t &Bytes);

} // namespace scopeprof::runtime
