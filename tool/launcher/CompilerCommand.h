// What a compiler command line does: a compile of one C/C++ source, a link, or something the
// launcher passes through untouched.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace scopeprof::launcher {

struct CompilerCommand {
  enum Kind {
    Compile,     ///< `-c` of exactly one C or C++ source: instrumented
    Link,        ///< no `-c`/`-S`/`-E`: the runtime is added (sources in it are compiled as given)
    PassThrough, ///< anything else, run as it is
  } What = PassThrough;
  /// Why a command with sources is passed through ("-E only preprocesses", ...), or what a
  /// link leaves out; empty when there is nothing to say (no input at all, `--version`).
  std::string Why;
  /// The compiler and its arguments, as given (a ccache/distcc wrapper in front included).
  std::vector<std::string> Argv;
  std::string FirstInput; ///< for messages
  /// Index in Argv of the compiler proper (1 after a wrapper) and of the source (Compile).
  size_t Compiler = 0, Source = 0;
  /// Include directories as (index in Argv of the flag, flag, directory as written), in order.
  struct IncludeDir {
    size_t Index;
    std::string Flag, Dir;
  };
  std::vector<IncludeDir> IncludeDirs;
  /// `-include FILE` given separately: (index of FILE in Argv).
  std::vector<size_t> ForcedIncludes;
  /// The dependency file the compiler writes (-MD/-MMD), if any.
  std::optional<std::string> DepFile;
  bool NoStdLib = false; ///< -nostdlib/-nodefaultlibs: the link picks its libraries itself
};

CompilerCommand classify(std::vector<std::string> Argv);

} // namespace scopeprof::launcher
