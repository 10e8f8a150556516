// The live aggregates: the writer turns every call it writes (or counts) into per-site figures
// as it goes — calls, total and self time, the spread, and a histogram for percentiles — so
// `scopeprof ctl results` can answer while the program runs, at no cost to the hot path.
// Inline: the writer calls it for every record, and its time is the writer's throughput.
#pragma once

#include "Recorder.h"

#include <algorithm>

namespace scopeprof::runtime {

// Durations in ticks go into log-linear buckets: exact below 8 ticks, then 8 buckets per power
// of two, so a bucket's middle is within 1/16 of any duration in it. 2^47 ticks (13 hours at
// 3 GHz) and more share the last bucket. Ticks, not ns: shifts only, no arithmetic per call.
// Each site that recorded a call holds about 3 KiB of them.
constexpr unsigned LiveSubBuckets = 8, LiveSubBits = 3, LiveMaxOctave = 47;
constexpr size_t LiveBuckets = LiveSubBuckets + (LiveMaxOctave - LiveSubBits + 1) * LiveSubBuckets;

inline size_t liveBucketOf(uint64_t Ticks) {
  if (Ticks < LiveSubBuckets)
    return Ticks;
  unsigned Octave = std::min(63u - static_cast<unsigned>(__builtin_clzll(Ticks)), LiveMaxOctave);
  uint64_t Sub = (Ticks >> (Octave - LiveSubBits)) & (LiveSubBuckets - 1);
  if (Octave == LiveMaxOctave && Ticks >> (LiveMaxOctave + 1))
    Sub = LiveSubBuckets - 1;
  return LiveSubBuckets + (Octave - LiveSubBits) * LiveSubBuckets + Sub;
}

/// The part of call \p U that its children written one by one so far in \p L's log did not take.
inline uint64_t ownTicks(const ThreadLog &L, const scopeprof_record &U) {
  uint64_t Ticks = U.end > U.start ? U.end - U.start : 0;
  auto Depth = static_cast<size_t>((U.meta >> fmt::MetaDepthShift) & fmt::MetaDepthMask);
  return Ticks - std::min(Ticks, Depth + 1 < L.ChildTicks.size() ? L.ChildTicks[Depth + 1] : 0);
}

/// Adds call \p U of site \p Index, \p Written one by one or counted in \p L's log, to the live
/// aggregates. Holds LiveM.
inline void noteCall(Recorder &R, ThreadLog &L, const scopeprof_record &U, uint32_t Index,
                     bool Written) {
  uint64_t Weight = (U.meta & fmt::FlagSampled) ? fmt::SamplePeriod : 1;
  uint64_t Ticks = U.end > U.start ? U.end - U.start : 0;
  // Records come in the order calls end, so a call's children are all in before it: what
  // they took, summed per depth, is what its own time leaves out. As the loader computes it,
  // only calls written one by one count as children (a counted call is only in a sum).
  auto Depth = static_cast<size_t>((U.meta >> fmt::MetaDepthShift) & fmt::MetaDepthMask);
  uint64_t Self = ownTicks(L, U);
  if (L.ChildTicks.size() < Depth + 2)
    L.ChildTicks.resize(Depth + 2);
  L.ChildTicks[Depth + 1] = 0;
  if (Written)
    L.ChildTicks[Depth] += Ticks;

  if (R.Live.size() <= Index)
    R.Live.resize(Index + 1);
  LiveSite &S = R.Live[Index];
  if (S.Histogram.empty())
    S.Histogram.resize(LiveBuckets);
  S.Calls += Weight;
  S.TotalTicks += Weight * Ticks;
  S.SelfTicks += Weight * Self;
  S.MaxTicks = std::max(S.MaxTicks, Ticks);
  S.SumSquaresTicks +=
      static_cast<double>(Weight) * static_cast<double>(Ticks) * static_cast<double>(Ticks);
  S.Histogram[liveBucketOf(Ticks)] += Weight;
  R.LiveCalls += Weight;
}

/// The duration under which a fraction \p Q of site \p S's calls fall, in ticks (within 1/16).
uint64_t livePercentileTicks(const LiveSite &S, double Q);
double nsPerTick(const Recorder &R);

} // namespace scopeprof::runtime
