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

Each run's times are first divided by its machine factor: how much slower that run was,
the median slowdown of the functions' own time per call against the other runs (those with
100+ calls in every run, of at least 100ns), since a busier CI machine makes everything slower
alike (one function's regression barely moves a median). The summary shows head's factor
against base; --absolute compares raw times instead.

When both sides measured CPU time (SCOPEPROF_COUNTERS=cpu, the default), each function's CPU
time is judged by the same rules, with a machine factor of its own. When both counted
allocations (SCOPEPROF_COUNTERS=memory), allocations and bytes per call compare exactly: any
change is one, more of either a regression (with several runs a side whose figures vary from
run to run, every head run must differ from every base run). A measure only one side has is
not compared, and the output says so.

  --top N    rows per section (default 10; 0: all)
  --case G   compare only the calls of the profile cases whose names match (Demo::slow,
             Demo::*: their measured repetitions; every run of both sides must have one)
  --format   table (default), markdown (for a pull-request comment) or json

exit status: 0 no regression, 1 a regression (of wall time, CPU time or allocations), 2 bad
arguments or databases, or sides that share too little to compare (no function in both, or
the functions in both hold less than half of BASE's self time).
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

/// A count per call or per run: whole numbers as such, others with what tells them apart.
std::string count(double V) {
  return std::fabs(V - std::round(V)) < 1e-9 ? fmt::format("{:.0f}", V) : fmt::format("{:.1f}", V);
}

std::string beforeAfter(double Base, double Head) {
  return Base == Head ? count(Base) : count(Base) + " → " + count(Head);
}

const char *verdictText(const db::TimeDiff &T) {
  return T.Result == db::Regression    ? "REGRESSION"
         : T.Result == db::Improvement ? "improvement"
         : T.BeyondNoise               ? "below threshold"
                                       : "noise";
}

/// Wall or CPU time: one row per function, its verdict for that time.
Table changeTable(const std::vector<const db::SiteDiff *> &Rows, bool Cpu) {
  Table T;
  if (Cpu)
    T.Columns = {"function", "calls",           "cpu before",     "cpu after", "change",
                 "",         "self cpu before", "self cpu after", "p",         "verdict"};
  else
    T.Columns = {"function", "calls",       "total before", "total after", "change",
                 "",         "self before", "self after",   "p",           "verdict"};
  T.Keys = {"function",  "calls",        "base_total_ns", "head_total_ns", "change_pct",
            "change_ns", "base_self_ns", "head_self_ns",  "p_value",       "verdict"};
  T.RightAligned = {false, true, true, true, true, true, true, true, true, false};
  T.Shrinkable = {0};
  for (const auto *D : Rows) {
    const db::TimeDiff &X = Cpu ? *D->Cpu : D->Wall;
    auto Ns = [](double V) { return Cell::real(V, formatDuration(V)); };
    T.Rows.push_back(
        {Cell::code(D->Signature), Cell::text(beforeAfter(D->BaseCalls, D->HeadCalls)),
         Ns(X.BaseTotal), Ns(X.HeadTotal),
         Cell::real(X.ChangePct,
                    std::isfinite(X.ChangePct) ? formatPercent(X.ChangePct) : "new time"),
         Cell::real(X.ChangeNs, signedDuration(X.ChangeNs)), Ns(X.BaseSelf), Ns(X.HeadSelf),
         X.PValue ? Cell::real(*X.PValue, fmt::format("{:.2g}", *X.PValue)) : Cell::null(),
         Cell::text(verdictText(X))});
  }
  return T;
}

const char *allocVerdict(const db::AllocDiff &A) {
  return A.Result == db::Regression    ? "REGRESSION"
         : A.Result == db::Improvement ? "improvement"
                                       : "not judged: some calls sampled or only counted";
}

/// Allocations per call, before → after: inclusive counts and bytes decide, the calls' own
/// bytes show where the change was made.
Table allocTable(const std::vector<const db::SiteDiff *> &Rows) {
  Table T;
  T.Columns = {"function", "calls", "allocs/call", "bytes/call", "self bytes/call", "verdict"};
  T.Keys = {"function", "calls", "allocs_per_call", "bytes_per_call", "self_bytes_per_call",
            "verdict"};
  T.RightAligned = {false, true, true, true, true, false};
  T.Shrinkable = {0};
  for (const auto *D : Rows) {
    const db::AllocDiff &A = *D->Allocs;
    T.Rows.push_back({Cell::code(D->Signature), Cell::text(beforeAfter(A.BaseCalls, A.HeadCalls)),
                      Cell::text(beforeAfter(A.BaseAllocs, A.HeadAllocs)),
                      Cell::text(beforeAfter(A.BaseBytes, A.HeadBytes)),
                      Cell::text(beforeAfter(A.BaseSelfBytes, A.HeadSelfBytes)),
                      Cell::text(allocVerdict(A))});
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
    double Total = Head ? D.Wall.HeadTotal : D.Wall.BaseTotal;
    T.Rows.push_back({Cell::code(D.Signature), Cell::real(Head ? D.HeadCalls : D.BaseCalls),
                      Cell::real(Total, formatDuration(Total)), Cell::code(D.Location)});
  }
  return T;
}

/// What was not compared, and why: a measure only one side has, or functions whose CPU time
/// covers only some of their calls.
std::vector<std::string> notes(const db::DiffResult &R, const Side &Base, const Side &Head) {
  std::vector<std::string> Out;
  auto Missing = [&](bool B, bool H, const char *What, const char *How) {
    if (B != H)
      Out.push_back(fmt::format("{} not compared: not every run of {} '{}' measured it ({}).", What,
                                B ? "head" : "base", B ? Head.Label : Base.Label, How));
  };
  Missing(R.BaseCpu, R.HeadCpu, "CPU time",
          "recorded with SCOPEPROF_COUNTERS=none, or the kernel refused perf events");
  Missing(R.BaseMemory, R.HeadMemory, "Allocations",
          "recorded without SCOPEPROF_COUNTERS=memory, or with the static runtime");
  if (R.BaseCpu && R.HeadCpu) {
    size_t Partial = static_cast<size_t>(std::count_if(
        R.Sites.begin(), R.Sites.end(), [](const db::SiteDiff &D) { return !D.Cpu; }));
    if (Partial)
      Out.push_back(fmt::format(
          "CPU time of {} function(s) not compared: not all of their calls have one on both "
          "sides (calls only counted, or begun before their thread was tracked, or switch "
          "records the kernel lost: docs/schema.md).",
          Partial));
  }
  return Out;
}

std::string jsonTime(const db::TimeDiff &T) {
  return fmt::format(
      "\"base_total_ns\": {}, \"head_total_ns\": {}, \"change_ns\": {}, \"change_pct\": {}, "
      "\"base_self_ns\": {}, \"head_self_ns\": {}, \"p_value\": {}, \"sampling_error_ns\": {}, "
      "\"beyond_noise\": {}, \"verdict\": \"{}\"",
      T.BaseTotal, T.HeadTotal, T.ChangeNs,
      std::isfinite(T.ChangePct) ? fmt::format("{}", T.ChangePct) : "null", T.BaseSelf, T.HeadSelf,
      T.PValue ? fmt::format("{}", *T.PValue) : "null", T.SamplingErrorNs, T.BeyondNoise,
      T.Result == db::Regression    ? "regression"
      : T.Result == db::Improvement ? "improvement"
                                    : "unchanged");
}

std::string jsonAllocs(const db::AllocDiff &A) {
  return fmt::format(
      "{{\"base_calls\": {}, \"head_calls\": {}, \"base_allocs_per_call\": {}, "
      "\"head_allocs_per_call\": {}, \"base_bytes_per_call\": {}, \"head_bytes_per_call\": {}, "
      "\"base_self_bytes_per_call\": {}, \"head_self_bytes_per_call\": {}, \"exact\": {}, "
      "\"varies_between_runs\": {}, \"changed\": {}, \"verdict\": \"{}\"}}",
      A.BaseCalls, A.HeadCalls, A.BaseAllocs, A.HeadAllocs, A.BaseBytes, A.HeadBytes,
      A.BaseSelfBytes, A.HeadSelfBytes, A.Exact, A.Varies, A.Changed,
      A.Result == db::Regression    ? "regression"
      : A.Result == db::Improvement ? "improvement"
      : A.Changed                   ? "not judged"
                                    : "unchanged");
}

void printJson(const db::DiffResult &R, const db::DiffOptions &O, const Side &Base,
               const Side &Head) {
  auto Sites = [](const std::vector<db::SiteDiff> &V) {
    std::string Out;
    for (const auto &D : V)
      Out += fmt::format(
          "{}\n    {{\"function\": {}, \"key\": \"{}\", \"calls\": {}, \"total_ns\": {}}}",
          Out.empty() ? "" : ",", jsonString(D.Signature), D.Key,
          std::max(D.BaseCalls, D.HeadCalls), std::max(D.Wall.BaseTotal, D.Wall.HeadTotal));
    return "[" + Out + (Out.empty() ? "]" : "\n  ]");
  };
  std::string Changes;
  for (const auto &D : R.Sites)
    Changes += fmt::format(
        "{}\n    {{\"function\": {}, \"key\": \"{}\", \"file\": {}, \"base_calls\": {}, "
        "\"head_calls\": {}, {}, \"cpu\": {}, \"allocs\": {}}}",
        Changes.empty() ? "" : ",", jsonString(D.Signature), D.Key, jsonString(D.Location),
        D.BaseCalls, D.HeadCalls, jsonTime(D.Wall), D.Cpu ? "{" + jsonTime(*D.Cpu) + "}" : "null",
        D.Allocs ? jsonAllocs(*D.Allocs) : "null");
  std::string Notes;
  for (const auto &N : notes(R, Base, Head))
    Notes += (Notes.empty() ? "" : ", ") + jsonString(N);
  if (!Base.CaseNames.empty())
    fmt::print("{{\n  \"base_cases\": [{}], \"head_cases\": [{}],", joinNames(Base.CaseNames, true),
               joinNames(Head.CaseNames, true));
  fmt::print("{}\n  \"base\": {}, \"head\": {}, \"base_runs\": {}, \"head_runs\": {},\n"
             "  \"threshold_pct\": {}, \"min_time_ns\": {}, \"machine_factor\": {}, "
             "\"cpu_machine_factor\": {},\n"
             "  \"cpu_compared\": {}, \"allocs_compared\": {},\n"
             "  \"regressions\": {}, \"improvements\": {}, \"time_regressions\": {}, "
             "\"cpu_regressions\": {}, \"cpu_improvements\": {}, \"alloc_regressions\": {}, "
             "\"alloc_improvements\": {},\n"
             "  \"notes\": [{}],\n"
             "  \"functions\": [{}\n  ],\n  \"new\": {},\n  \"vanished\": {}\n}}\n",
             Base.CaseNames.empty() ? "{" : "", jsonString(Base.Label), jsonString(Head.Label),
             Base.Runs.Runs.size(),
             Head.Runs.Runs.size(), O.ThresholdPct, O.MinTimeNs, R.Wall.Value, R.Cpu.Value,
             R.BaseCpu && R.HeadCpu, R.BaseMemory && R.HeadMemory, R.allRegressions(),
             R.Improvements + R.CpuImprovements + R.AllocImprovements, R.Regressions,
             R.CpuRegressions, R.CpuImprovements, R.AllocRegressions, R.AllocImprovements, Notes,
             Changes, Sites(R.Added), Sites(R.Removed));
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
      MatchedSelf += D.Wall.BaseSelf;
    BaseSelf = MatchedSelf;
    for (const auto &D : R.Removed)
      BaseSelf += D.Wall.BaseSelf;
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
      return R.allRegressions() ? ExitFailure : ExitOk;
    }
    std::vector<const db::SiteDiff *> Regressed, Improved, Others, CpuRegressed, CpuImproved,
        AllocRegressed, AllocImproved, AllocUnjudged;
    for (const auto &D : R.Sites) {
      (D.Wall.Result == db::Regression    ? Regressed
       : D.Wall.Result == db::Improvement ? Improved
                                          : Others)
          .push_back(&D);
      if (D.Cpu && D.Cpu->Result != db::Unchanged)
        (D.Cpu->Result == db::Regression ? CpuRegressed : CpuImproved).push_back(&D);
      if (D.Allocs && D.Allocs->Changed)
        (D.Allocs->Result == db::Regression    ? AllocRegressed
         : D.Allocs->Result == db::Improvement ? AllocImproved
                                               : AllocUnjudged)
            .push_back(&D);
    }
    // CPU changes by their self CPU time, as wall ones by self time; allocation changes by the
    // change of the calls' own bytes: the function that allocates differently itself comes
    // before its callers, whose inclusive figures changed with it.
    auto BySelfCpu = [](const db::SiteDiff *A, const db::SiteDiff *B) {
      return std::fabs(A->Cpu->SelfChangeNs) > std::fabs(B->Cpu->SelfChangeNs);
    };
    auto BySelfBytes = [](const db::SiteDiff *A, const db::SiteDiff *B) {
      auto Own = [](const db::AllocDiff &X) {
        return std::fabs(X.HeadSelfBytes - X.BaseSelfBytes);
      };
      auto Inclusive = [](const db::AllocDiff &X) { return std::fabs(X.HeadBytes - X.BaseBytes); };
      return std::pair(Own(*A->Allocs), Inclusive(*A->Allocs)) >
             std::pair(Own(*B->Allocs), Inclusive(*B->Allocs));
    };
    for (auto *V : {&CpuRegressed, &CpuImproved})
      std::stable_sort(V->begin(), V->end(), BySelfCpu);
    for (auto *V : {&AllocRegressed, &AllocImproved, &AllocUnjudged})
      std::stable_sort(V->begin(), V->end(), BySelfBytes);
    auto Limit = [&](std::vector<const db::SiteDiff *> V) {
      if (*Top && V.size() > static_cast<size_t>(*Top))
        V.resize(static_cast<size_t>(*Top));
      return V;
    };
    bool Md = *F == Format::Markdown;
    size_t Regressions = R.allRegressions(),
           Improvements = R.Improvements + R.CpuImprovements + R.AllocImprovements;
    // Which measures the counts are of: wall time alone says nothing more.
    std::string Kinds;
    if ((R.BaseCpu && R.HeadCpu) || (R.BaseMemory && R.HeadMemory)) {
      Kinds = fmt::format(" (wall time {}/{}", R.Regressions, R.Improvements);
      if (R.BaseCpu && R.HeadCpu)
        Kinds += fmt::format(", CPU time {}/{}", R.CpuRegressions, R.CpuImprovements);
      if (R.BaseMemory && R.HeadMemory)
        Kinds += fmt::format(", allocations {}/{}", R.AllocRegressions, R.AllocImprovements);
      Kinds += ")";
    }
    std::string Summary = fmt::format(
        "{}{} regression{}, {} improvement{}{}{} — {} functions compared, {} new, {} vanished "
        "(threshold {}%, min {}; base {} run{}, head {} run{}; {})",
        Md ? "**scopeprof diff: " : "", Regressions, Regressions == 1 ? "" : "s", Improvements,
        Improvements == 1 ? "" : "s", Kinds, Md ? "**" : "", R.Sites.size(), R.Added.size(),
        R.Removed.size(), O.ThresholdPct, formatDuration(O.MinTimeNs), Base.Runs.Runs.size(),
        Base.Runs.Runs.size() == 1 ? "" : "s", Head.Runs.Runs.size(),
        Head.Runs.Runs.size() == 1 ? "" : "s",
        R.Wall.Sites
            ? fmt::format(
                  "each run divided by its machine factor, head {:.3f} of base, from {} functions{}",
                  R.Wall.Value, R.Wall.Sites,
                  R.Cpu.Sites ? fmt::format(" ({:.3f} for CPU times)", R.Cpu.Value) : "")
            : "raw times");
    fmt::print("{}\n", Summary);
    if (!Base.CaseNames.empty())
      fmt::print("{}cases: base {}; head {}\n", Md ? "\n" : "", joinNames(Base.CaseNames, false),
                 joinNames(Head.CaseNames, false));
    if (Base.Runs.Runs.size() == 1 || Head.Runs.Runs.size() == 1)
      fmt::print("{}A weak verdict: with one run on a side there is no run-to-run spread to judge "
                 "noise by: a machine busier during that run can decide it, and so can "
                 "allocations that vary from run to run (a pool, a polling loop). Record three "
                 "runs a side (docs/ci.md).\n",
                 Md ? "\n" : "");
    for (const auto &N : notes(R, Base, Head))
      fmt::print("{}{}\n", Md ? "\n" : "", N);
    auto Section = [&](const std::string &Title, const Table &T) {
      if (T.Rows.empty())
        return;
      fmt::print(Md ? "\n### {}\n\n" : "\n{}:\n", Title);
      printTable(T, *F);
    };
    Section("Regressions", changeTable(Limit(Regressed), false));
    Section("Improvements", changeTable(Limit(Improved), false));
    Section("CPU time regressions", changeTable(Limit(CpuRegressed), true));
    Section("CPU time improvements", changeTable(Limit(CpuImproved), true));
    // Allocations compare exactly: any change in allocations or bytes per call is one.
    Section("Allocation regressions (more allocations or bytes per call)",
            allocTable(Limit(AllocRegressed)));
    Section("Allocation improvements (fewer allocations and bytes per call)",
            allocTable(Limit(AllocImproved)));
    if (!Md)
      Section("Largest other changes", changeTable(Limit(Others), false));
    Section("Allocation changes not judged", allocTable(Limit(AllocUnjudged)));
    Section(fmt::format("New functions ({})", R.Added.size()),
            onlyTable(R.Added, true, static_cast<size_t>(*Top)));
    Section(fmt::format("Vanished functions ({})", R.Removed.size()),
            onlyTable(R.Removed, false, static_cast<size_t>(*Top)));
    return Regressions ? ExitFailure : ExitOk;
  } catch (const db::DbError &E) {
    printError("{}", E.what());
    return ExitUsage;
  }
}

} // namespace scopeprof::cli
