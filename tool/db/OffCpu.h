// A thread's off-CPU intervals, and how much of a call's interval they cover: what turns wall
// time into CPU time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace scopeprof::db {

class OffCpuTimeline {
public:
  /// Tracking began at \p SinceNs (0: the thread was not tracked: nothing is known).
  void start(uint64_t SinceNs);
  /// Adds the next interval (format::OffCpuKind \p Kind). Intervals come in time order; one
  /// that overlaps an earlier one (a damaged log) is kept as a stretch of unknown state and
  /// \p Problem says so.
  void add(uint64_t OutNs, uint64_t InNs, uint8_t Kind, std::string &Problem);
  /// How long the thread was off the CPU within [\p StartNs, \p EndNs]; nullopt when that is
  /// not known (not tracked then, or records were lost). O(log intervals).
  std::optional<uint64_t> offCpuWithin(uint64_t StartNs, uint64_t EndNs) const;
  /// No call asked about later should start before \p Ns: intervals ending before it may go,
  /// so memory follows the switches of one outermost call, not of the whole thread. One that
  /// does (a region open across outermost calls) gets nullopt, never a figure missing them.
  void forgetBefore(uint64_t Ns);

private:
  uint64_t SinceNs = 0;
  uint64_t ForgottenBeforeNs = 0; ///< intervals ending up to here are gone
  /// Known off-CPU intervals, sorted and disjoint; Before[i] is the total length of the
  /// intervals before i.
  std::vector<uint64_t> Starts, Ends, Before = {0};
  std::vector<uint64_t> UnknownStarts, UnknownEnds;
  uint64_t LastEnd = 0;
};

} // namespace scopeprof::db
