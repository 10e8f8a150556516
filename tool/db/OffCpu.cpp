// Off-CPU overlap by binary search over sorted intervals and their running total.
#include "OffCpu.h"

#include "scopeprof/LogFormat.h"

#include <algorithm>

namespace scopeprof::db {

void OffCpuTimeline::start(uint64_t Since) { SinceNs = Since; }

void OffCpuTimeline::add(uint64_t OutNs, uint64_t InNs, uint8_t Kind, std::string &Problem) {
  if (OutNs < LastEnd) {
    Problem = "off-CPU intervals out of time order; the CPU time of calls around them is unknown";
    Kind = format::OffCpuUnknown;
  }
  InNs = std::max(InNs, OutNs);
  if (Kind == format::OffCpuUnknown) {
    // Kept sorted and disjoint: a stretch reaching back over earlier ones absorbs them.
    uint64_t End = std::max(InNs, LastEnd);
    while (!UnknownEnds.empty() && UnknownEnds.back() >= OutNs) {
      OutNs = std::min(OutNs, UnknownStarts.back());
      UnknownStarts.pop_back();
      UnknownEnds.pop_back();
    }
    UnknownStarts.push_back(OutNs);
    UnknownEnds.push_back(End);
    LastEnd = End;
    return;
  }
  LastEnd = InNs;
  Starts.push_back(OutNs);
  Ends.push_back(InNs);
  Before.push_back(Before.back() + (InNs - OutNs));
}

void OffCpuTimeline::forgetBefore(uint64_t Ns) {
  // In bulk, once most of what is kept is behind: amortized O(1) per interval.
  auto Gone = static_cast<size_t>(std::upper_bound(Ends.begin(), Ends.end(), Ns) - Ends.begin());
  if (Gone >= 4096 && Gone * 2 >= Ends.size()) {
    ForgottenBeforeNs = std::max(ForgottenBeforeNs, Ends[Gone - 1]);
    auto Cut = static_cast<std::ptrdiff_t>(Gone);
    Starts.erase(Starts.begin(), Starts.begin() + Cut);
    Ends.erase(Ends.begin(), Ends.begin() + Cut);
    Before.erase(Before.begin(), Before.begin() + Cut);
    // Only differences of running totals are used: they may start anywhere.
  }
  auto GoneUnknown =
      static_cast<std::ptrdiff_t>(std::upper_bound(UnknownEnds.begin(), UnknownEnds.end(), Ns) - UnknownEnds.begin());
  if (GoneUnknown >= 1024) {
    ForgottenBeforeNs = std::max(ForgottenBeforeNs, UnknownEnds[static_cast<size_t>(GoneUnknown - 1)]);
    UnknownStarts.erase(UnknownStarts.begin(), UnknownStarts.begin() + GoneUnknown);
    UnknownEnds.erase(UnknownEnds.begin(), UnknownEnds.begin() + GoneUnknown);
  }
}

std::optional<uint64_t> OffCpuTimeline::offCpuWithin(uint64_t StartNs, uint64_t EndNs) const {
  if (!SinceNs || StartNs < SinceNs || StartNs < ForgottenBeforeNs)
    return std::nullopt;
  // Unknown stretches (lost records) are sorted and disjoint: the first one ending after the
  // call starts is the only one that can overlap it.
  auto U = std::upper_bound(UnknownEnds.begin(), UnknownEnds.end(), StartNs);
  if (U != UnknownEnds.end() && UnknownStarts[static_cast<size_t>(U - UnknownEnds.begin())] < EndNs)
    return std::nullopt;
  // Intervals [First, Last) overlap the call: the ones ending after it starts and starting
  // before it ends.
  auto First = static_cast<size_t>(std::upper_bound(Ends.begin(), Ends.end(), StartNs) - Ends.begin());
  auto Last = static_cast<size_t>(std::lower_bound(Starts.begin(), Starts.end(), EndNs) - Starts.begin());
  if (First >= Last)
    return 0;
  uint64_t Off = Before[Last] - Before[First];
  // The outermost two may stick out of the call.
  if (Starts[First] < StartNs)
    Off -= StartNs - Starts[First];
  if (Ends[Last - 1] > EndNs)
    Off -= Ends[Last - 1] - EndNs;
  return Off;
}

} // namespace scopeprof::db
