// Header-only statistics: a log-scale histogram with percentiles, and a top-N counter.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace logstats {

/// Buckets of width 2^(1/4): percentiles within 19% of the true value, constant memory.
template <typename T, size_t Buckets = 128> class Histogram {
public:
  void add(T Value) {
    ++Counts[bucketOf(Value)];
    ++Total;
  }
  void merge(const Histogram &Other) {
    for (size_t I = 0; I < Buckets; ++I)
      Counts[I] += Other.Counts[I];
    Total += Other.Total;
  }
  T percentile(double P) const {
    uint64_t Rank = static_cast<uint64_t>(std::ceil(P * static_cast<double>(Total))), Seen = 0;
    for (size_t I = 0; I < Buckets; ++I)
      if ((Seen += Counts[I]) >= Rank && Counts[I])
        return upperBound(I);
    return T();
  }
  uint64_t count() const { return Total; }

private:
  static size_t bucketOf(T Value) {
    if (Value <= T(1))
      return 0;
    auto B = static_cast<size_t>(4 * std::log2(static_cast<double>(Value)));
    return std::min(B, Buckets - 1);
  }
  static T upperBound(size_t Bucket) { return static_cast<T>(std::exp2((Bucket + 1) / 4.0)); }

  std::array<uint64_t, Buckets> Counts{};
  uint64_t Total = 0;
};

/// Counts keys and answers the N most frequent.
template <typename Key> class TopCounter {
public:
  void add(const Key &K, uint64_t N = 1) { Counts[K] += N; }
  void merge(const TopCounter &Other) {
    for (const auto &[K, N] : Other.Counts)
      Counts[K] += N;
  }
  std::vector<std::pair<Key, uint64_t>> top(size_t N) const {
    std::vector<std::pair<Key, uint64_t>> All(Counts.begin(), Counts.end());
    std::sort(All.begin(), All.end(), [](const auto &A, const auto &B) {
      return A.second != B.second ? A.second > B.second : A.first < B.first;
    });
    if (All.size() > N)
      All.resize(N);
    return All;
  }
  size_t distinct() const { return Counts.size(); }

private:
  std::map<Key, uint64_t> Counts;
};

} // namespace logstats
