// Generates a deterministic synthetic access log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace logstats {

class Generator {
public:
  explicit Generator(uint64_t Seed) : State(Seed) {}
  /// \p Lines log lines; about one in 500 is malformed.
  std::vector<std::string> lines(size_t Lines);

private:
  uint64_t next();
  std::string line();
  uint64_t State;
};

} // namespace logstats
