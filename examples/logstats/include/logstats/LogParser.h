// Parses access-log lines: `CLIENT METHOD PATH STATUS BYTES LATENCY_MS`.
#pragma once

#include "logstats/Record.h"

#include <stdexcept>
#include <string>
#include <string_view>

namespace logstats {

class ParseError : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

class LogParser {
public:
  /// Throws ParseError for a malformed line.
  Record parse(std::string_view Line) const;

  /// `/users/1234/orders/99` -> `/users/:id/orders/:id`, so requests group by route.
  static std::string normalizePath(std::string_view Path);

private:
  static Method parseMethod(std::string_view Word);
  static std::string_view nextField(std::string_view &Rest);
};

} // namespace logstats
