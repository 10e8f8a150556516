// `scopeprof rules check|match|suggest`: validate a rules file, show which line decides for a
// function, or write one from a profile that leaves out what costs more to measure than it is worth.
#include "Args.h"
#include "Commands.h"
#include "Output.h"

#include "Schema.h"
#include "Stats.h"

#include "scopeprof/rules/Rules.h"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <sys/stat.h>

namespace scopeprof::cli {
namespace {

constexpr const char *Usage =
    "usage: scopeprof rules check FILE\n"
    "       scopeprof rules match FILE --function NAME [--signature SIG] [--file PATH]\n"
    "                             [--kind KIND[,KIND...]] [--trivial]\n"
    "       scopeprof rules suggest [--budget PCT] [--run RUN] [-o FILE] DB\n";

std::optional<rules::RuleSet> loadRules(const std::string &Path) {
  // A directory opens and reads as an empty file: zero rules, "ok".
  struct stat St;
  if (stat(Path.c_str(), &St) == 0 && S_ISDIR(St.st_mode)) {
    printError("cannot read rules file '{}': {}", Path, std::strerror(EISDIR));
    return std::nullopt;
  }
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
  fmt::print(stderr, "{}: {} rule(s), ok\n", Args->Positional[0],
             Set->rules().size() + Set->counterRules().size());
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

/// A signature as a glob that matches exactly it: the glob characters escaped.
std::string literalGlob(const std::string &Text) {
  std::string Out;
  for (char C : Text) {
    if (std::string_view("*?[]{}\\,").find(C) != std::string_view::npos)
      Out += '\\';
    Out += C;
  }
  return Out;
}

/// From a profile: every function whose scope cost (its calls times the process's measured
/// cost per recorded call) is more than the budget's share of its own time is excluded, with
/// a comment saying why. Rewriting with the result is the low-overhead second pass.
int suggest(const std::vector<std::string> &Argv) {
  int Exit;
  auto Args = parseCommand(Argv, {{"--budget", true}, {"--run", true}, {"-o", true}}, Usage, "",
                           Exit);
  if (!Args)
    return Exit;
  if (Args->Positional.size() != 1)
    return usageError("'rules suggest' needs exactly one database", Usage);
  std::string BudgetText = Args->value("--budget").value_or("5");
  char *End = nullptr;
  double Budget = std::strtod(BudgetText.c_str(), &End);
  if (BudgetText.empty() || *End != '\0' || !(Budget > 0) || Budget > 1000)
    return usageError(fmt::format("--budget needs a percentage above 0, not '{}'", BudgetText),
                      Usage);
  try {
    auto Db = db::openForRead(Args->Positional[0]);
    int64_t Run = db::findRun(*Db, Args->value("--run").value_or(""));
    auto Cost = Db->prepare("SELECT coalesce(max(scope_outer_ns), 0) FROM processes WHERE run_id=?1");
    Cost.bind(1, Run).step();
    double CostNs = Cost.real(0);
    if (CostNs <= 0)
      throw db::DbError("run " + std::to_string(Run) + " of '" + Args->Positional[0] +
                        "' has no measured cost per call (recorded by an older scopeprof)");
    auto Sites = db::loadSiteNames(*Db);
    struct Verdict {
      std::string Signature, Reason;
      double Ratio;
    };
    std::vector<Verdict> Excluded;
    size_t Kept = 0;
    for (const auto &St : db::computeSiteStats(*Db, Run)) {
      double Spent = static_cast<double>(St.Calls) * CostNs;
      // CPU time where every recorded call has one: a call preempted for milliseconds would
      // otherwise make a tiny function look worth measuring.
      bool AllCpu = St.CpuCalls > 0 && St.CpuCalls == St.Recorded && St.Calls == St.Recorded;
      double Own = static_cast<double>(AllCpu ? St.CpuNs : St.TotalNs);
      double Ratio = Own > 0 ? Spent / Own : INFINITY;
      if (Ratio * 100 <= Budget) {
        ++Kept;
        continue;
      }
      std::string Why = fmt::format(
          "{} calls x {:.0f} ns = {} of scope cost, {} of its own time", St.Calls, CostNs,
          formatDuration(Spent), formatDuration(Own));
      if (Own > 0)
        Why += fmt::format(" ({:.0f}%)", 100 * Ratio);
      if (St.Throttled)
        Why += "; throttled at run time";
      Excluded.push_back({Sites[St.SiteId].Signature, Why, Ratio});
    }
    std::stable_sort(Excluded.begin(), Excluded.end(),
                     [](const Verdict &A, const Verdict &B) { return A.Ratio > B.Ratio; });
    OutputFile Out(Args->value("-o").value_or("-"));
    Out.print("# Written by 'scopeprof rules suggest --budget {}' from run {} of {}:\n"
              "# functions whose measurement costs more than {}% of their own time.\n"
              "# Use it as the project's .scopeprof (or --rules) and build again; docs/rules.md.\n",
              BudgetText, Run, Args->Positional[0], BudgetText);
    for (const auto &V : Excluded)
      Out.print("# {}\nexclude signature:{}\n", V.Reason, literalGlob(V.Signature));
    Out.commit();
    fmt::print(stderr, "scopeprof: {} function(s) excluded, {} kept (budget {}% of a function's "
                       "own time, {:.1f} ns per recorded call)\n",
               Excluded.size(), Kept, BudgetText, CostNs);
    return ExitOk;
  } catch (const db::DbError &E) {
    return reportFailure(E);
  }
}

} // namespace

int runRules(const std::vector<std::string> &Argv) {
  if (Argv.empty())
    return usageError("'rules' needs a subcommand: check, match or suggest", Usage);
  std::vector<std::string> Rest(Argv.begin() + 1, Argv.end());
  if (Argv[0] == "check")
    return check(Rest);
  if (Argv[0] == "match")
    return match(Rest);
  if (Argv[0] == "suggest")
    return suggest(Rest);
  if (Argv[0] == "--help") {
    fmt::print("{}", Usage);
    return ExitOk;
  }
  return usageError(fmt::format("unknown rules subcommand '{}'", Argv[0]), Usage);
}

} // namespace scopeprof::cli
