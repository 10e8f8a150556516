// The timestamp clock: the TSC where it is invariant, else CLOCK_MONOTONIC, and the anchors
// that let the reader convert ticks to nanoseconds.
#include "Recorder.h"

#include <algorithm>

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

namespace {

// A site that is always on, and calls that differ only in its scope. The records go to a
// buffer on the stack, never to the log.
scopeprof_site CalibrationSite = {SCOPEPROF_SITE_ON, 0, 0, "", "", 0, 0, nullptr};
__attribute__((noinline)) void scopedCall() {
  scopeprof::detail::RecordedCall C;
  scopeprof::detail::Scope S(&CalibrationSite, &C);
  __asm__ volatile("");
}
__attribute__((noinline)) void plainCall() { __asm__ volatile(""); }

// A throttled site: the branch that lets one call in 64 through is mispredicted for exactly
// those, and the scope's exit pays for it inside the sample's interval.
scopeprof_site CalibrationSampledSite = {SCOPEPROF_SITE_SAMPLED, 0, 0, "", "", 0, 0, nullptr};
__attribute__((noinline)) void sampledCall() {
  scopeprof::detail::RecordedCall C;
  scopeprof::detail::Scope S(&CalibrationSampledSite, &C);
  __asm__ volatile("");
}

// A marked site: a throttled call's mark and unmark around the call, nothing recorded.
scopeprof_site CalibrationMarkedSite = {SCOPEPROF_SITE_MARKED, 0, 0, "", "", 0, 0, nullptr};
__attribute__((noinline)) void markedCall() {
  scopeprof::detail::RecordedCall C;
  scopeprof::detail::Scope S(&CalibrationMarkedSite, &C);
  __asm__ volatile("");
}

/// The mean of the values under the 95th percentile: ticks are coarse (10 ns on some
/// machines), so a small difference shows in means, not medians; an interrupt must not.
double trimmedMean(std::vector<double> V) {
  std::sort(V.begin(), V.end());
  V.resize(std::max<size_t>(1, V.size() * 95 / 100));
  double Sum = 0;
  for (double X : V)
    Sum += X;
  return Sum / static_cast<double>(V.size());
}

/// Work between the calls: back to back, the two timestamp reads of consecutive scopes would
/// wait on each other, a cost that real code, with work between its calls, mostly hides.
void between() {
  for (int I = 0; I < 32; ++I)
    __asm__ volatile("");
}

template <typename T> T median(std::vector<T> V) {
  std::nth_element(V.begin(), V.begin() + static_cast<ptrdiff_t>(V.size() / 2), V.end());
  return V[V.size() / 2];
}

} // namespace

/// What one recorded call costs this process, in ticks: the shortest interval a scope around
/// nothing records (inner: inside every call's own duration), and what a caller's interval
/// grows by per recorded callee (outer), with a little work between the calls as real code has.
/// Medians of repeated short loops, so a preemption or a cold cache in one of them does not
/// decide. The same hot path as every scope runs, into a buffer on the stack.
void measureScopeCost(Recorder &R) {
  constexpr int Calls = 64, Rounds = 101;
  scopeprof_record Records[Calls + 1];
  scopeprof_thread Saved = scopeprof_tls;
  std::vector<double> Plain, Scoped, Inner, Sampled, Throttled, Marked;
  for (int Round = 0; Round < Rounds; ++Round) {
    scopeprof_tls.pos = Records;
    scopeprof_tls.end = Records + Calls + 1;
    uint64_t T0 = scopeprof_now();
    for (int I = 0; I < Calls; ++I) {
      between();
      plainCall();
    }
    uint64_t T1 = scopeprof_now();
    for (int I = 0; I < Calls; ++I) {
      between();
      scopedCall();
    }
    uint64_t T2 = scopeprof_now();
    Plain.push_back(static_cast<double>(T1 - T0));
    Scoped.push_back(static_cast<double>(T2 - T1));
    for (int I = 0; I < Calls; ++I)
      Inner.push_back(static_cast<double>(Records[I].end - Records[I].start));
    // At most one record per call: the buffer cannot fill.
    scopeprof_tls.pos = Records;
    uint64_t T3 = scopeprof_now();
    for (int I = 0; I < Calls; ++I) {
      between();
      sampledCall();
    }
    Throttled.push_back(static_cast<double>(scopeprof_now() - T3));
    uint64_t T4 = scopeprof_now();
    for (int I = 0; I < Calls; ++I) {
      between();
      markedCall();
    }
    Marked.push_back(static_cast<double>(scopeprof_now() - T4));
    for (scopeprof_record *U = Records; U != scopeprof_tls.pos; ++U)
      Sampled.push_back(static_cast<double>(U->end - U->start));
  }
  scopeprof_tls = Saved;
  R.ScopeInnerTicks = median(Inner);
  R.ScopeOuterTicks = std::max((median(Scoped) - median(Plain)) / Calls, R.ScopeInnerTicks);
  if (!Sampled.empty())
    R.SampledExtraTicks = std::max(0.0, trimmedMean(Sampled) - trimmedMean(Inner));
  R.ThrottledCallTicks = std::max(0.0, (median(Throttled) - median(Plain)) / Calls);
  // A mark costs more inside real code than in this loop (its stores wait on the function's
  // own): never marked under MinMarkedCallNs. And a mark is two stores: where this loop finds
  // more than MaxMarkedCallNs * MarkCostShare, it measured something else (a sanitizer's
  // instrumentation of every access), and calls of MaxMarkedCallNs are marked anyway.
  double MarkTicks = (median(Marked) - median(Plain)) / Calls;
  auto Ticks = [&R](uint64_t Ns) { return static_cast<double>(Ns * R.TicksPerSecond) / 1e9; };
  R.MarkWorthTicks =
      std::clamp(MarkTicks / MarkCostShare, Ticks(MinMarkedCallNs), Ticks(MaxMarkedCallNs));
}

} // namespace scopeprof::runtime

using namespace scopeprof::runtime;

extern "C" {

uint64_t scopeprof_monotonic_ticks(void) { return monotonicNs(); }

} // extern "C"
