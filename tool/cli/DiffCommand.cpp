// `scopeprof diff BASE HEAD`: the CI gate. Exit 0 when no function regressed past the
// threshold, 1 when one did, 2 on bad input.
#include "Args.h"
#include "Commands.h"
#include "Output.h"

#include "Cases.h"
#include "Diff.h"
#include "Schema.h"
#include "Stats.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <sys/stat.h>

namespace scopeprof::cli {
namespace {

constexpr const char *Usage =
    "usage: scopeprof diff [--threshold PCT] [--min-time TIME] [--top N] [--absolute]\n"
    "                      [--case GLOB] [--format table|markdown|json] BASE HEAD\n";

constexpr const char *Help = R"(
BASE and HEAD are databases (every run in each is one sample of that side) or DB:RUN[,RUN...]
to pick runs, e.g. two runs of one database: ci.db:1 ci.db:2. Functions are matched by their
stable site key; functions only in HEAD or only in BASE are listed apart.

A function regressed when its total time per run grew by more than --threshold percent
(default 10) and by more than --min-time per run (default 1ms), and the change is beyond
noise: its per-call durations differ (Mann-Whitney rank test, p < 0.01) or its call count
changed, and with several runs a side, every HEAD run is slower than every BASE run.

Head times are first divided by the machine factor: the median slowdown of all functions
with enough calls of at least 100ns, since a busier CI machine makes everything slower alike
(one function's regression barely moves a median). The summary shows it; --absolute
compares raw times instead.

  --top N    rows per section (default 10; 0: all)
  --case G   compare only the calls of the profile cases whose names match (Demo::slow,
             Demo::*: their measured repetitions; every run of both sides must have one)
  --format   table (default), markdown (for a pull-request comment) or json

exit status: 0 no regression, 1 a regression, 2 bad arguments or databases, or sides that share
too little to compare (no function in both, or the functions in both hold less than half of
BASE's self time).
)";

struct Side {
  std::unique_ptr<db::Database> Db;
  db::RunSet Runs;
  std::string Label;
  std::vector<std::string> CaseNames; ///< --case: the matching names over the side's runs
};

/// --case: selects the matching cases in every run of \p S.
void selectCases(Side &S, const std::string &Glob) {
  for (int64_t Run : S.Runs.Runs) {
    auto Selected = db::selectCases(*S.Db, Run, Glob);
    S.Runs.Cases[Run] = Selected.Ids;
    for (const auto &Name : Selected.Names)
      if (std::find(S.CaseNames.begin(), S.CaseNames.end(), Name) == S.CaseNames.end())
        S.CaseNames.push_back(Name);
  }
}

std::string joinNames(const std::vector<std::string> &Names, bool Json) {
  std::string Out;
  for (const auto &N : Names)
    Out += (Out.empty() ? "" : ", ") + (Json ? jsonString(N) : N);
  return Out;
}

std::vector<std::string> split(const std::string &S, char Sep) {
  std::vector<std::string> Out;
  size_t Start = 0;
  for (size_t End; (End = S.find(Sep, Start)) != std::string::npos; Start = End + 1)
    Out.push_back(S.substr(Start, End - Start));
  Out.push_back(S.substr(Start));
  return Out;
}

/// "DB" (all runs) or "DB:RUN[,RUN...]".
Side openSide(const std::string &Spec) {
  struct stat St;
  std::string Path = Spec, Runs;
  if (stat(Spec.c_str(), &St) != 0) {
    if (auto Colon = Spec.rfind(':'); Colon != std::string::npos) {
      Path = Spec.substr(0, Colon);
      Runs = Spec.substr(Colon + 1);
    }
  }
  Side S;
  S.Db = db::openForRead(Path);
  S.Runs.Db = S.Db.get();
  S.Label = Spec;
  if (Runs.empty()) {
    auto All = S.Db->prepare("SELECT id FROM runs ORDER BY id");
    while (All.step())
      S.Runs.Runs.push_back(All.integer(0));
    if (S.Runs.Runs.empty())
      throw db::DbError("database '" + Path + "' holds no runs");
  } else {
    for (const auto &Run : split(Runs, ',')) {
      int64_t Id = db::findRun(*S.Db, Run);
      // A run counted twice would weigh double in every mean and in the noise test.
      if (std::find(S.Runs.Runs.begin(), S.Runs.Runs.end(), Id) != S.Runs.Runs.end())
        throw db::InputError(
            fmt::format("run '{}' is run {} of '{}', already named in '{}'", Run, Id, Path, Spec));
      S.Runs.Runs.push_back(Id);
    }
  }
  return S;
}

std::string signedDuration(double Ns) {
  return (Ns >= 0 ? "+" : "-") + formatDuration(std::fabs(Ns));
}

std::string calls(const db::SiteDiff &D) {
  auto Fmt = [](double V) {
    return std::fabs(V - std::round(V)) < 1e-9 ? fmt::format("{:.0f}", V)
                                               : fmt::format("{:.1f}", V);
  };
  return D.BaseCalls == D.HeadCalls ? Fmt(D.BaseCalls)
                                    : Fmt(D.BaseCalls) + " → " + Fmt(D.HeadCalls);
}

Table changeTable(const std::vector<const db::SiteDiff *> &Rows) {
  Table T;
  T.Columns = {"function", "calls",       "total before", "total after", "change",
               "",         "self before", "self after",   "p",           "verdict"};
  T.Keys = {"function",  "calls",        "base_total_ns", "head_total_ns", "change_pct",
            "change_ns", "base_self_ns", "head_self_ns",  "p_value",       "verdict"};
  T.RightAligned = {false, true, true, true, true, true, true, true, true, false};
  T.Shrinkable = {0};
  for (const auto *D : Rows) {
    const char *Verdict = D->Result == db::SiteDiff::Regression    ? "REGRESSION"
                          : D->Result == db::SiteDiff::Improvement ? "improvement"
                          : D->BeyondNoise                         ? "below threshold"
                                                                   : "noise";
    auto Ns = [](double V) { return Cell::real(V, formatDuration(V)); };
    T.Rows.push_back(
        {Cell::code(D->Signature), Cell::text(calls(*D)), Ns(D->BaseTotal), Ns(D->HeadTotal),
         Cell::real(D->ChangePct,
                    std::isfinite(D->ChangePct) ? formatPercent(D->ChangePct) : "new time"),
         Cell::real(D->ChangeNs, signedDuration(D->ChangeNs)), Ns(D->BaseSelf), Ns(D->HeadSelf),
         D->PValue ? Cell::real(*D->PValue, fmt::format("{:.2g}", *D->PValue)) : Cell::null(),
         Cell::text(Verdict)});
  }
  return T;
}

Table onlyTable(const std::vector<db::SiteDiff> &Sites, bool Head, size_t Top) {
  Table T;
  T.Columns = {"function", "calls", "total", "file"};
  T.Keys = {"function", "calls", "total_ns", "file"};
  T.RightAligned = {false, true, true, false};
  T.Shrinkable = {3, 0};
  for (size_t I = 0; I < Sites.size() && (!Top || I < Top); ++I) {
    const auto &D = Sites[I];
    double Total = Head ? D.HeadTotal : D.BaseTotal;
    T.Rows.push_back({Cell::code(D.Signature), Cell::real(Head ? D.HeadCalls : D.BaseCalls),
                      Cell::real(Total, formatDuration(Total)), Cell::code(D.Location)});
  }
  return T;
}

void printJson(const db::DiffResult &R, const db::DiffOptions &O, const Side &Base,
               const Side &Head) {
  auto Sites = [](const std::vector<db::SiteDiff> &V) {
    std::string Out;
    for (const auto &D : V)
      Out += fmt::format(
          "{}\n    {{\"function\": {}, \"key\": \"{}\", \"calls\": {}, \"total_ns\": {}}}",
          Out.empty() ? "" : ",", jsonString(D.Signature), D.Key,
          std::max(D.BaseCalls, D.HeadCalls), std::max(D.BaseTotal, D.HeadTotal));
    return "[" + Out + (Out.empty() ? "]" : "\n  ]");
  };
  std::string Changes;
  for (const auto &D : R.Sites)
    Changes += fmt::format(
        "{}\n    {{\"function\": {}, \"key\": \"{}\", \"file\": {}, \"base_calls\": {}, "
        "\"head_calls\": {}, "
        "\"base_total_ns\": {}, \"head_total_ns\": {}, \"change_ns\": {}, \"change_pct\": {}, "
        "\"base_self_ns\": {}, \"head_self_ns\": {}, \"p_value\": {}, \"beyond_noise\": {}, "
        "\"verdict\": \"{}\"}}",
        Changes.empty() ? "" : ",", jsonString(D.Signature), D.Key, jsonString(D.Location),
        D.BaseCalls, D.HeadCalls, D.BaseTotal, D.HeadTotal, D.ChangeNs,
        std::isfinite(D.ChangePct) ? fmt::format("{}", D.ChangePct) : "null", D.BaseSelf,
        D.HeadSelf, D.PValue ? fmt::format("{}", *D.PValue) : "null", D.BeyondNoise,
        D.Result == db::SiteDiff::Regression    ? "regression"
        : D.Result == db::SiteDiff::Improvement ? "improvement"
                                                : "unchanged");
  if (!Base.CaseNames.empty())
    fmt::print("{{\n  \"base_cases\": [{}], \"head_cases\": [{}],", joinNames(Base.CaseNames, true),
               joinNames(Head.CaseNames, true));
  fmt::print("{}\n  \"base\": {}, \"head\": {}, \"base_runs\": {}, \"head_runs\": {},\n"
             "  \"threshold_pct\": {}, \"min_time_ns\": {}, \"machine_factor\": {},\n  "
             "\"regressions\": {}, \"improvements\": {},\n"
             "  \"functions\": [{}\n  ],\n  \"new\": {},\n  \"vanished\": {}\n}}\n",
             Base.CaseNames.empty() ? "{" : "", jsonString(Base.Label), jsonString(Head.Label),
             Base.Runs.Runs.size(),
             Head.Runs.Runs.size(), O.ThresholdPct, O.MinTimeNs, R.MachineFactor, R.Regressions,
             R.Improvements, Changes, Sites(R.Added), Sites(R.Removed));
}

} // namespace

int runDiff(const std::vector<std::string> &Argv) {
  int Exit;
  auto Args = parseCommand(Argv,
                           {{"--threshold", true},
                            {"--min-time", true},
                            {"--top", true},
                            {"--format", true},
                            {"--case", true},
                            {"--absolute"}},
                           Usage, Help, Exit);
  if (!Args)
    return Exit;
  if (Args->Positional.size() != 2)
    return usageError("'diff' needs BASE and HEAD", Usage);
  auto F = parseFormat(Args->value("--format").value_or("table"));
  if (!F || *F == Format::Csv)
    return usageError(
        fmt::format("unknown format '{}' (table, markdown or json)", *Args->value("--format")),
        Usage);
  db::DiffOptions O;
  O.Normalize = !Args->has("--absolute");
  if (auto V = Args->value("--threshold")) {
    char *End = nullptr;
    O.ThresholdPct = std::strtod(V->c_str(), &End);
    if (End == V->c_str() || *End || O.ThresholdPct < 0 || !std::isfinite(O.ThresholdPct))
      return usageError(fmt::format("--threshold needs a percentage like 10, not '{}'", *V), Usage);
  }
  if (auto V = Args->value("--min-time")) {
    auto D = parseDuration(*V);
    if (!D)
      return usageError(fmt::format("--min-time needs a duration like 1ms, not '{}'", *V), Usage);
    O.MinTimeNs = static_cast<double>(*D);
  }
  auto Top = parseCount(Args->value("--top").value_or("10"));
  if (!Top)
    return usageError(fmt::format("--top needs a number, not '{}'", *Args->value("--top")), Usage);

  try {
    Side Base = openSide(Args->Positional[0]), Head = openSide(Args->Positional[1]);
    if (auto Case = Args->value("--case")) {
      selectCases(Base, *Case);
      selectCases(Head, *Case);
    }
    auto R = db::diffRuns(Base.Runs, Head.Runs, O);
    // A gate that compared nothing must not pass: the sides are different programs, or were
    // keyed from different project roots.
    double MatchedSelf = 0, BaseSelf = 0;
    for (const auto &D : R.Sites)
      MatchedSelf += D.BaseSelf;
    BaseSelf = MatchedSelf;
    for (const auto &D : R.Removed)
      BaseSelf += D.BaseSelf;
    if (R.Sites.empty() || MatchedSelf < 0.5 * BaseSelf) {
      printError("'{}' and '{}' share too little to compare: {} function(s) in both, holding "
                 "{:.0f}% of the base's self time ({} only in base, {} only in head); were both "
                 "built from the same project with the same root (site keys are relative to it: "
                 "docs/rules.md), and run on the same program?",
                 Base.Label, Head.Label, R.Sites.size(),
                 BaseSelf > 0 ? 100 * MatchedSelf / BaseSelf : 0.0, R.Removed.size(),
                 R.Added.size());
      return ExitUsage;
    }
    if (*F == Format::Json) {
      printJson(R, O, Base, Head);
      return R.Regressions ? ExitFailure : ExitOk;
    }
    std::vector<const db::SiteDiff *> Regressed, Improved, Others;
    for (const auto &D : R.Sites)
      (D.Result == db::SiteDiff::Regression    ? Regressed
       : D.Result == db::SiteDiff::Improvement ? Improved
                                               : Others)
          .push_back(&D);
    auto Limit = [&](std::vector<const db::SiteDiff *> V) {
      if (*Top && V.size() > static_cast<size_t>(*Top))
        V.resize(static_cast<size_t>(*Top));
      return V;
    };
    bool Md = *F == Format::Markdown;
    std::string Summary = fmt::format(
        "{}{} regression{}, {} improvement{}{} — {} functions compared, {} new, {} vanished "
        "(threshold {}%, min {}; base {} run{}, head {} run{}; {})",
        Md ? "**scopeprof diff: " : "", R.Regressions, R.Regressions == 1 ? "" : "s",
        R.Improvements, R.Improvements == 1 ? "" : "s", Md ? "**" : "", R.Sites.size(),
        R.Added.size(), R.Removed.size(), O.ThresholdPct, formatDuration(O.MinTimeNs),
        Base.Runs.Runs.size(), Base.Runs.Runs.size() == 1 ? "" : "s", Head.Runs.Runs.size(),
        Head.Runs.Runs.size() == 1 ? "" : "s",
        R.FactorSites
            ? fmt::format(
                  "head times divided by the machine factor {:.3f}, the median of {} functions",
                  R.MachineFactor, R.FactorSites)
            : "raw times");
    fmt::print("{}\n", Summary);
    if (!Base.CaseNames.empty())
      fmt::print("{}cases: base {}; head {}\n", Md ? "\n" : "", joinNames(Base.CaseNames, false),
                 joinNames(Head.CaseNames, false));
    if (Base.Runs.Runs.size() == 1 || Head.Runs.Runs.size() == 1)
      fmt::print("{}A weak verdict: with one run on a side there is no run-to-run spread to judge "
                 "noise by, and a machine busier during that run can decide it. Record three "
                 "runs a side (docs/ci.md).\n",
                 Md ? "\n" : "");
    auto Section = [&](const std::string &Title, const Table &T) {
      if (T.Rows.empty())
        return;
      fmt::print(Md ? "\n### {}\n\n" : "\n{}:\n", Title);
      printTable(T, *F);
    };
    Section("Regressions", changeTable(Limit(Regressed)));
    Section("Improvements", changeTable(Limit(Improved)));
    if (!Md)
      Section("Largest other changes", changeTable(Limit(Others)));
    Section(fmt::format("New functions ({})", R.Added.size()),
            onlyTable(R.Added, true, static_cast<size_t>(*Top)));
    Section(fmt::format("Vanished functions ({})", R.Removed.size()),
            onlyTable(R.Removed, false, static_cast<size_t>(*Top)));
    return R.Regressions ? ExitFailure : ExitOk;
  } catch (const db::DbError &E) {
    printError("{}", E.what());
    return ExitUsage;
  }
}

} // namespace scopeprof::cli
