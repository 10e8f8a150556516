// Command-line parsing for the scopeprof subcommands.
#include "Args.h"

namespace scopeprof::cli {

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

} // namespace scopeprof::cli
