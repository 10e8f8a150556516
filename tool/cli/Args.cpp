// Command-line parsing for the scopeprof subcommands.
#include "Args.h"

#include <cmath>
#include <cstdlib>

namespace scopeprof::cli {

std::optional<uint64_t> parseDuration(const std::string &Text) {
  char *End = nullptr;
  double V = std::strtod(Text.c_str(), &End);
  if (End == Text.c_str() || !std::isfinite(V) || V < 0)
    return std::nullopt;
  std::string Unit(End);
  double Scale = Unit.empty() || Unit == "ns" ? 1
                 : Unit == "us"               ? 1e3
                 : Unit == "ms"               ? 1e6
                 : Unit == "s"                ? 1e9
                                              : -1;
  if (Scale < 0 || V * Scale > 9e18)
    return std::nullopt;
  return static_cast<uint64_t>(V * Scale);
}

std::optional<int64_t> parseCount(const std::string &Text) {
  char *End = nullptr;
  long long V = std::strtoll(Text.c_str(), &End, 10);
  if (Text.empty() || *End || V < 0 || Text[0] == '-' || Text[0] == '+')
    return std::nullopt;
  return V;
}

int usageError(std::string_view Message, std::string_view Usage) {
  printError("{}", Message);
  fmt::print(stderr, "{}", Usage);
  return ExitUsage;
}

std::optional<ParsedArgs> parseArgs(const std::vector<std::string> &Argv,
                                    const std::vector<OptionSpec> &Specs, std::string_view Usage) {
  ParsedArgs Out;
  bool OnlyPositional = false;
  for (size_t I = 0; I < Argv.size(); ++I) {
    const std::string &A = Argv[I];
    if (OnlyPositional || A.size() < 2 || A[0] != '-') {
      Out.Positional.push_back(A);
      continue;
    }
    if (A == "--") {
      OnlyPositional = true;
      continue;
    }
    std::string Name = A.substr(0, A.find('='));
    const OptionSpec *Spec = nullptr;
    for (const auto &S : Specs)
      if (S.Name == Name)
        Spec = &S;
    if (!Spec) {
      usageError(fmt::format("unknown option '{}'", Name), Usage);
      return std::nullopt;
    }
    if (!Spec->TakesValue) {
      if (Name != A) {
        usageError(fmt::format("option '{}' takes no value", Name), Usage);
        return std::nullopt;
      }
      Out.Flags.insert(Name);
    } else if (Name != A) {
      Out.Values[Name] = A.substr(Name.size() + 1);
    } else if (I + 1 < Argv.size()) {
      Out.Values[Name] = Argv[++I];
    } else {
      usageError(fmt::format("option '{}' needs a value", Name), Usage);
      return std::nullopt;
    }
  }
  return Out;
}

std::optional<ParsedArgs> parseCommand(const std::vector<std::string> &Argv,
                                       std::vector<OptionSpec> Specs, std::string_view Usage,
                                       std::string_view Help, int &Exit) {
  Specs.push_back({"--help"});
  auto Args = parseArgs(Argv, Specs, Usage);
  Exit = Args ? ExitOk : ExitUsage;
  if (Args && Args->has("--help")) {
    fmt::print("{}{}", Usage, Help);
    return std::nullopt;
  }
  return Args;
}

} // namespace scopeprof::cli
