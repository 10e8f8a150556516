// One parsed access-log line.
#pragma once

#include <cstdint>
#include <string>

namespace logstats {

enum class Method { Get, Post, Put, Delete };

struct Record {
  std::string Client;
  Method Verb = Method::Get;
  std::string Path; ///< normalized: ids replaced by ':id'
  int Status = 0;
  uint64_t Bytes = 0;
  double LatencyMs = 0;
};

} // namespace logstats
