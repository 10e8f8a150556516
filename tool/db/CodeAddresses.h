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

  /// The load bias of the file mapped by \p M (what its addresses are moved by), if it can be read.
  bool loadBias(const logreader::Module &M, uint64_t &Bias, std::vector<std::string> &Notes);

private:
  struct File;
  File &file(const logreader::Module &M, std::vector<std::string> &Notes);
  std::map<std::string, std::unique_ptr<File>> Files; ///< by path, time and size
};

/// What one thread's CPU samples are charged to (docs/runtime.md, "CPU samples").
class SampleAttribution {
public:
  explicit SampleAttribution(CodeAddresses &Code);
  ~SampleAttribution();
  SampleAttribution(const SampleAttribution &) = delete;
  SampleAttribution &operator=(const SampleAttribution &) = delete;

  /// A mapping of the thread's process that samples after it may lie in.
  void addModule(const logreader::Module &M);
  /// The code at the sample's address; where that is no instrumented function's nor scopeprof's
  /// (a library, or uninstrumented code a callee's initializer called before its scope opened),
  /// the first instrumented caller up the sample's copied stack, past scopeprof's frames (the
  /// runtime's malloc calling the program's): its frames are unwound by their call frame
  /// information (libdwfl, as perf does), in the mapped files.
  CodeAt charge(const logreader::CpuSample &S, std::vector<std::string> &Notes);

private:
  struct Unwinder;
  const logreader::Module *moduleAt(uint64_t Address) const;
  CodeAddresses &Code;
  std::vector<logreader::Module> Modules;
  std::unique_ptr<Unwinder> Unwind; ///< rebuilt when a module was added since
};

} // namespace scopeprof::db
