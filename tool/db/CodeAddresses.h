// What code ran at the address a CPU sample interrupted: the instrumented function there
// (inline frames included), scopeprof's own measurement code, or neither. Read from the
// mapped file's DWARF with elfutils' libdw (docs/development.md says why that library).
#pragma once

#include "LogReader.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace scopeprof::db {

struct CodeAt {
  enum Kind {
    Unknown,     ///< no file, no debug information, or no instrumented function there
    Measurement, ///< scopeprof's scope code or runtime: the cost of measuring
    Function,    ///< the instrumented function with stable site id SiteId
  } What = Unknown;
  uint64_t SiteId = 0;
};

class CodeAddresses {
public:
  CodeAddresses();
  ~CodeAddresses();
  CodeAddresses(const CodeAddresses &) = delete;
  CodeAddresses &operator=(const CodeAddresses &) = delete;

  /// What ran at \p Address, inside mapping \p M. A file that cannot be read, has no debug
  /// information, or changed since the run adds one line to \p Notes, the first time.
  CodeAt at(const logreader::Module &M, uint64_t Address, std::vector<std::string> &Notes);

private:
  struct File;
  std::map<std::string, std::unique_ptr<File>> Files; ///< by path, time and size
};

} // namespace scopeprof::db
