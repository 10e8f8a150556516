// The live aggregates, read back: percentiles from the histogram the writer fills (Live.h).
#include "Live.h"

#include <cmath>

namespace scopeprof::runtime {

namespace {

uint64_t bucketMiddle(size_t Bucket) {
  if (Bucket < LiveSubBuckets)
    return Bucket;
  unsigned Octave = static_cast<unsigned>((Bucket - LiveSubBuckets) / LiveSubBuckets) + LiveSubBits;
  uint64_t Sub = (Bucket - LiveSubBuckets) % LiveSubBuckets;
  uint64_t Width = uint64_t{1} << (Octave - LiveSubBits);
  return ((LiveSubBuckets + Sub) << (Octave - LiveSubBits)) + Width / 2;
}

} // namespace

double nsPerTick(const Recorder &R) {
  return 1e9 / static_cast<double>(R.TicksPerSecond ? R.TicksPerSecond : 1);
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
