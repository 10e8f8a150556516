// The CPU-time sampler: every period of a thread's own CPU time (every 8 until samples decide
// anything, samplesDecide()), a signal notes the interrupted address and stack and the site of
// the thread's innermost recorded call (scopeprof_tls's marks). The loader takes a throttled
// site's own time from these samples: its calls are not recorded, or too few and too short for
// a per-call measurement (a 10 ns clock, and a scope cost that varies by as much as the call
// takes). docs/runtime.md, "CPU samples".
#pragma once

#include <cstdint>
#include <csignal>
#include <ctime>

namespace scopeprof::runtime {

/// The sampling timer of one thread; started and stopped by the thread itself, switched to the
/// full rate by the thread's handler or by the writer (switchToFullRate).
class CpuSampler {
public:
  /// Starts sampling the calling thread every \p PeriodNs of its CPU time (every 8 with a weight
  /// of 8 until samplesDecide() is called, then at its next sample every one): a perf event on its
  /// task clock where the kernel allows it (exact periods), else a POSIX CPU-time timer (its
  /// expiries come with the scheduler tick; a late one stands for the periods it missed). False,
  /// holding nothing, when neither works.
  bool start(uint64_t PeriodNs, bool Verbose);
  void stop();
  /// In a fork child: a perf event came along but samples the parent's thread; a timer did not.
  void dropInherited();
  /// The period a sample's weight counts, or 0 when the thread is not sampled.
  uint64_t periodNs() const { return Running ? PeriodNs : 0; }
  /// In the signal handler: whether this signal is this sampler's.
  bool sentThis(const siginfo_t &Info) const;
  /// In the signal handler: the periods this sample stands for (before any overrun), and the
  /// switch to the full rate once samples decide (async-signal-safe: one system call).
  uint32_t takeSample();
  /// Samples every period from now on, once (async-signal-safe). Called by the writer as soon as
  /// samples decide, under the recorder's lock that the thread stops its sampler under: at the
  /// thread's next sample, up to 8 periods later, a function just cut off went unsampled for
  /// that long, or had its first sample weigh 8 periods (on the example, beside a busy loop,
  /// Generator::line() took 12 ms in one run and 7 in the next of one build).
  void switchToFullRate();
  /// In the signal handler: how many record-sized units of the stack above \p Sp to copy.
  uint64_t stackUnits(uint64_t Sp) const;

private:
  /// Samples every \p Periods periods from now on.
  bool arm(uint32_t Periods);
  /// The calling thread's stack bounds, for stackUnits().
  void findStack();

  int Fd = -1;
  timer_t Timer{};
  bool HasTimer = false, Running = false;
  bool Switched = false; ///< the switch to the full rate was made, or tried (atomic)
  uint64_t PeriodNs = 0;
  uint32_t Factor = 1; ///< periods between two samples (atomic: the writer may arm)
  uint64_t StackLow = 0, StackHigh = 0; ///< the thread's stack, found at start
};

/// Samples decide a function's time only where calls go unrecorded: a throttled function's, or
/// calls only counted (SCOPEPROF_MIN_DURATION, SCOPEPROF_MAX_DEPTH, the log budget). Until one
/// does, threads are sampled 8 times more slowly, each sample standing for as many
/// periods: on a VM a sample costs some 70 us of CPU. Called when calls start to go unrecorded;
/// the writer then switches every thread to the full rate (switchSamplers).
void samplesDecide();
/// Whether samplesDecide() was called.
bool samplesDecided();

/// Installs the signal handler, once per process, before the first thread starts sampling.
/// False when the signal is taken by the program (its handler is left alone).
bool installSampleHandler(bool Verbose);

} // namespace scopeprof::runtime
