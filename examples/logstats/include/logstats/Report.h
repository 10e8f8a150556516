// Aggregated statistics of many records, mergeable across threads.
#pragma once

#include "logstats/Histogram.h"
#include "logstats/Record.h"

#include <cstdint>
#include <string>

namespace logstats {

class Report {
public:
  void add(const Record &R);
  void merge(const Report &Other);
  void countMalformed() { ++Malformed; }

  std::string render() const;
  /// A digest of the report, computed by the forked verifier process.
  uint64_t checksum() const;

private:
  TopCounter<std::string> Routes, Clients;
  TopCounter<int> Statuses;
  Histogram<double> Latency;
  uint64_t Bytes = 0, Requests = 0, Malformed = 0;
};

} // namespace logstats
