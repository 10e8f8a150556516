// `scopeprof rules check|match`: validate a rules file, or show which line decides for a function.
#include "Args.h"
#include "Commands.h"

#include "scopeprof/rules/Rules.h"

#include <fmt/core.h>

namespace scopeprof::cli {
namespace {

constexpr const char *Usage =
    "usage: scopeprof rules check FILE\n"
    "       scopeprof rules match FILE --function NAME [--signature SIG] [--file PATH]\n"
    "                             [--kind KIND[,KIND...]] [--trivial]\n";

std::optional<rules::RuleSet> loadRules(const std::string &Path) {
  rules::RulesError Err;
  auto Set = rules::RuleSet::load(Path, &Err);
  if (!Set) {
    std::string Text = Err.format();
    // format() already says "error:"; keep the tool's prefix in front.
    fmt::print(stderr, "scopeprof: {}\n", Text);
  }
  return Set;
}

int check(const std::vector<std::string> &Argv) {
  int Exit;
  auto Args = parseCommand(Argv, {}, Usage, "", Exit);
  if (!Args)
    return Exit;
  if (Args->Positional.size() != 1)
    return usageError("'rules check' takes exactly one FILE", Usage);
  auto Set = loadRules(Args->Positional[0]);
  if (!Set)
    return ExitFailure;
  fmt::print("{}", Set->normalized());
  fmt::print(stderr, "{}: {} rule(s), ok\n", Args->Positional[0], Set->rules().size());
  return ExitOk;
}

int match(const std::vector<std::string> &Argv) {
  int Exit;
  auto Args = parseCommand(
      Argv, {{"--function", true}, {"--signature", true}, {"--file", true}, {"--kind", true},
       {"--trivial", false}},
      Usage, "", Exit);
  if (!Args)
    return Exit;
  if (Args->Positional.size() != 1)
    return usageError("'rules match' takes exactly one FILE", Usage);
  if (!Args->has("--function") && !Args->has("--signature"))
    return usageError("'rules match' needs --function or --signature", Usage);

  std::string Signature = Args->value("--signature").value_or("");
  std::string Function = Args->value("--function").value_or("");
  if (Function.empty())
    Function = std::string(rules::qualifiedNameOf(Signature));
  if (Signature.empty())
    Signature = Function;
  unsigned Kinds = 0;
  if (auto K = Args->value("--kind")) {
    auto Parsed = rules::parseKinds(*K);
    if (!Parsed)
      return usageError(fmt::format("unknown kind in '{}' (expected free, method, ctor, dtor, "
                                    "operator, lambda, static or template)",
                                    *K),
                        Usage);
    Kinds = *Parsed;
  }
  std::string File = Args->value("--file").value_or("");

  auto Set = loadRules(Args->Positional[0]);
  if (!Set)
    return ExitFailure;
  rules::Subject S{File, Function, Signature, Kinds};
  rules::Decision D = Set->decide(S);
  // --trivial: the answer for a function the rewriter found trivial, which trivial: rules
  // take back from the default skip (only if the other rules include it).
  if (D.Included && Args->has("--trivial")) {
    rules::Decision T = Set->keepTrivial(S);
    if (T.DecidedBy)
      fmt::print("{} (line {}: {})\n", T.Included ? "include" : "exclude", T.DecidedBy->Line,
                 T.DecidedBy->Text);
    else
      fmt::print("exclude (trivial, no trivial: rule matched: the default)\n");
    return ExitOk;
  }
  if (D.DecidedBy)
    fmt::print("{} (line {}: {})\n", D.Included ? "include" : "exclude", D.DecidedBy->Line,
               D.DecidedBy->Text);
  else
    fmt::print("include (no rule matched: the default)\n");
  return ExitOk;
}

} // namespace

int runRules(const std::vector<std::string> &Argv) {
  if (Argv.empty())
    return usageError("'rules' needs a subcommand: check or match", Usage);
  std::vector<std::string> Rest(Argv.begin() + 1, Argv.end());
  if (Argv[0] == "check")
    return check(Rest);
  if (Argv[0] == "match")
    return match(Rest);
  if (Argv[0] == "--help") {
    fmt::print("{}", Usage);
    return ExitOk;
  }
  return usageError(fmt::format("unknown rules subcommand '{}'", Argv[0]), Usage);
}

} // namespace scopeprof::cli
