// The live aggregates: the writer turns every call it writes (or counts) into per-site figures
// as it goes — calls, total and self time, the spread, and a histogram for percentiles — so
// `scopeprof ctl results` can answer while the program runs, at no cost to the hot path.
#include "Recorder.h"

#include <algorithm>
#include <cmath>

namespace scopeprof::runtime {

namespace {

// Durations in ticks go into log-linear buckets: exact below 8 ns, then 8 buckets per power of
// two, so a bucket's middle is within 1/16 of any duration in it. 2^47 ticks (13 hours at
// 3 GHz) and more share the last bucket. Ticks, not ns: no arithmetic but shifts per call. Each site that recorded a call holds about 3 KiB of them.
constexpr unsigned SubBuckets = 8, SubBits = 3, MaxOctave = 47;
constexpr size_t BucketCount = SubBuckets + (MaxOctave - SubBits + 1) * SubBuckets;

size_t bucketOf(uint64_t Ticks) {
  if (Ticks < SubBuckets)
    return Ticks;
  unsigned Octave = std::min(63u - static_cast<unsigned>(__builtin_clzll(Ticks)), MaxOctave);
  uint64_t Sub = (Ticks >> (Octave - SubBits)) & (SubBuckets - 1);
  if (Octave == MaxOctave && Ticks >> (MaxOctave + 1))
    Sub = SubBuckets - 1;
  return SubBuckets + (Octave - SubBits) * SubBuckets + Sub;
}

uint64_t bucketMiddle(size_t Bucket) {
  if (Bucket < SubBuckets)
    return Bucket;
  unsigned Octave = static_cast<unsigned>((Bucket - SubBuckets) / SubBuckets) + SubBits;
  uint64_t Sub = (Bucket - SubBuckets) % SubBuckets;
  uint64_t Width = uint64_t{1} << (Octave - SubBits);
  return ((SubBuckets + Sub) << (Octave - SubBits)) + Width / 2;
}

} // namespace

double nsPerTick(const Recorder &R) {
  return 1e9 / static_cast<double>(R.TicksPerSecond ? R.TicksPerSecond : 1);
}

void noteCall(Recorder &R, ThreadLog &L, const scopeprof_record &U, uint32_t Index, bool Written) {
  uint64_t Weight = (U.meta & fmt::FlagSampled) ? fmt::SamplePeriod : 1;
  uint64_t Ticks = U.end > U.start ? U.end - U.start : 0;
  // Records come in the order calls end, so a call's children are all in before it: what
  // they took, summed per depth, is what its own time leaves out. As the loader computes it,
  // only calls written one by one count as children (a counted call is only in a sum).
  auto Depth = static_cast<size_t>((U.meta >> fmt::MetaDepthShift) & fmt::MetaDepthMask);
  if (L.ChildTicks.size() < Depth + 2)
    L.ChildTicks.resize(Depth + 2);
  uint64_t Self = Ticks - std::min(Ticks, L.ChildTicks[Depth + 1]);
  L.ChildTicks[Depth + 1] = 0;
  if (Written)
    L.ChildTicks[Depth] += Ticks;

  if (R.Live.size() <= Index)
    R.Live.resize(Index + 1);
  LiveSite &S = R.Live[Index];
  if (S.Histogram.empty())
    S.Histogram.resize(BucketCount);
  S.Calls += Weight;
  S.TotalTicks += Weight * Ticks;
  S.SelfTicks += Weight * Self;
  S.MaxTicks = std::max(S.MaxTicks, Ticks);
  S.SumSquaresTicks += static_cast<double>(Weight) * static_cast<double>(Ticks) * static_cast<double>(Ticks);
  S.Histogram[bucketOf(Ticks)] += Weight;
  R.LiveCalls += Weight;
}

uint64_t livePercentileTicks(const LiveSite &S, double Q) {
  if (!S.Calls)
    return 0;
  auto Rank = static_cast<uint64_t>(std::ceil(Q * static_cast<double>(S.Calls)));
  uint64_t Seen = 0;
  for (size_t B = 0; B < S.Histogram.size(); ++B) {
    Seen += S.Histogram[B];
    if (Seen >= std::max<uint64_t>(Rank, 1))
      return bucketMiddle(B);
  }
  return bucketMiddle(S.Histogram.size() - 1);
}

} // namespace scopeprof::runtime
