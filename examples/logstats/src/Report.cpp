// Aggregation and rendering of the statistics.
#include "logstats/Report.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace logstats {

void Report::add(const Record &R) {
  Routes.add(R.Path);
  Clients.add(R.Client);
  Statuses.add(R.Status);
  Latency.add(R.LatencyMs);
  Bytes += R.Bytes;
  ++Requests;
#ifdef LOGSTATS_REGRESSION
  // A deliberate regression for `scopeprof diff` to catch: re-validating every route.
  uint64_t Check = 0;
  for (int Round = 0; Round < 64; ++Round)
    for (char C : R.Path)
      Check = Check * 31 + static_cast<unsigned char>(C);
  if (Check == 42)
    std::abort();
#endif
}

void Report::merge(const Report &Other) {
  Routes.merge(Other.Routes);
  Clients.merge(Other.Clients);
  Statuses.merge(Other.Statuses);
  Latency.merge(Other.Latency);
  Bytes += Other.Bytes;
  Requests += Other.Requests;
  Malformed += Other.Malformed;
}

std::string Report::render() const {
  std::ostringstream Out;
  Out << Requests << " requests, " << Malformed << " malformed lines, " << Bytes / 1024
      << " KiB sent, " << Clients.distinct() << " clients\n";
  Out << "latency p50 <= " << Latency.percentile(0.5) << " ms, p99 <= " << Latency.percentile(0.99)
      << " ms\n";
  Out << "top routes:\n";
  for (const auto &[Route, N] : Routes.top(5))
    Out << "  " << N << "  " << Route << "\n";
  Out << "statuses:";
  for (const auto &[Status, N] : Statuses.top(4))
    Out << " " << Status << "=" << N;
  Out << "\n";
  return Out.str();
}

uint64_t Report::checksum() const {
  // FNV-1a over the rendered report, strengthened by rounds.
  constexpr int Rounds = 1000;
  std::string Text = render();
  uint64_t Hash = 1469598103934665603ull;
  for (int Round = 0; Round < Rounds; ++Round)
    for (unsigned char C : Text)
      Hash = (Hash ^ C) * 1099511628211ull;
  return Hash;
}

} // namespace logstats
