// A small command-line parser shared by the subcommands: --opt VALUE, --opt=VALUE, flags,
// positionals.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace scopeprof::cli {

struct OptionSpec {
  std::string Name; ///< with dashes: "--kind"
  bool TakesValue = false;
};

struct ParsedArgs {
  std::map<std::string, std::string> Values;
  std::set<std::string> Flags;
  std::vector<std::string> Positional;

  bool has(const std::string &Name) const { return Values.count(Name) || Flags.count(Name); }
  std::optional<std::string> value(const std::string &Name) const {
    auto It = Values.find(Name);
    return It == Values.end() ? std::nullopt : std::optional<std::string>(It->second);
  }
};

/// Exit codes shared by every subcommand.
enum ExitCode { ExitOk = 0, ExitFailure = 1, ExitUsage = 2 };

/// Parses \p Argv; on a bad argument prints the error and \p Usage to stderr
/// and returns nullopt (the caller exits with ExitUsage).
std::optional<ParsedArgs> parseArgs(const std::vector<std::string> &Argv,
                                    const std::vector<OptionSpec> &Specs, std::string_view Usage);

template <typename... T> void printError(fmt::format_string<T...> Format, T &&...Args) {
  fmt::print(stderr, "scopeprof: error: {}\n", fmt::format(Format, std::forward<T>(Args)...));
}

/// Parses a subcommand's arguments. `--help` is always accepted: it prints \p Usage and
/// \p Help. nullopt means the command is done and returns \p Exit (ExitOk after --help,
/// ExitUsage after a bad argument).
std::optional<ParsedArgs> parseCommand(const std::vector<std::string> &Argv,
                                       std::vector<OptionSpec> Specs, std::string_view Usage,
                                       std::string_view Help, int &Exit);

/// "250us", "1.5ms", "2s", "100ns" (a bare number is ns); nullopt when malformed.
std::optional<uint64_t> parseDuration(const std::string &Text);

/// A non-negative decimal integer; nullopt when malformed.
std::optional<int64_t> parseCount(const std::string &Text);

/// Prints a usage error and the usage line; returns ExitUsage.
int usageError(std::string_view Message, std::string_view Usage);

} // namespace scopeprof::cli
