// The timestamp clock: the TSC where it is invariant, else CLOCK_MONOTONIC, and the anchors
// that let the reader convert ticks to nanoseconds.
#include "Recorder.h"

int scopeprof_clock_is_tsc = 0;

namespace scopeprof::runtime {

bool invariantTsc() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned A, B, C, D;
  __asm__ volatile("cpuid" : "=a"(A), "=b"(B), "=c"(C), "=d"(D) : "a"(0x80000000u), "c"(0));
  if (A < 0x80000007u)
    return false;
  __asm__ volatile("cpuid" : "=a"(A), "=b"(B), "=c"(C), "=d"(D) : "a"(0x80000007u), "c"(0));
  return (D >> 8) & 1;
#else
  return false;
#endif
}

/// Pairs a tick reading with CLOCK_MONOTONIC; the reader converts with these anchors. Of a few
/// tries, the one with the narrowest window wins (a preempted or slow read is discarded).
void sampleAnchor(uint64_t &Ticks, uint64_t &Ns) {
  uint64_t Best = UINT64_MAX;
  for (int Try = 0; Try < 4; ++Try) {
    uint64_t Before = scopeprof_now();
    uint64_t Now = monotonicNs();
    uint64_t After = scopeprof_now();
    if (After - Before < Best) {
      Best = After - Before;
      Ticks = Before + (After - Before) / 2;
      Ns = Now;
    }
  }
}

void calibrateClock(Recorder &R) {
  bool Tsc = R.Cfg.Clock == Config::ClockTsc ||
             (R.Cfg.Clock == Config::ClockAuto && invariantTsc());
  scopeprof_clock_is_tsc = Tsc;
  sampleAnchor(R.CalibrationTicks, R.CalibrationNs);
  if (!Tsc)
    return;
  // A first estimate for short runs; the per-batch anchors refine it over longer spans.
  uint64_t T1, N1;
  do
    sampleAnchor(T1, N1);
  while (N1 - R.CalibrationNs < 200'000);
  R.TicksPerSecond = static_cast<uint64_t>(static_cast<double>(T1 - R.CalibrationTicks) * 1e9 /
                                           static_cast<double>(N1 - R.CalibrationNs));
}

} // namespace scopeprof::runtime

using namespace scopeprof::runtime;

extern "C" {

uint64_t scopeprof_monotonic_ticks(void) { return monotonicNs(); }

} // extern "C"
