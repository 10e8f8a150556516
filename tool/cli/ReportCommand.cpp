// `scopeprof report DB`: the bottleneck table, or with --errors the exceptions that broke calls.
#include "Args.h"
#include "Commands.h"
#include "Output.h"

#include "Cases.h"
#include "Schema.h"
#include "Stats.h"

#include "scopeprof/rules/Glob.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

namespace scopeprof::cli {
namespace {

constexpr const char *Usage =
    "usage: scopeprof report [--by cpu|self|wait|total|calls|mean|p95|allocs|alloc_bytes] [--top N]\n"
    "                        [--function GLOB] [--case GLOB]\n"
    "                        [--file GLOB] [--run RUN] [--pid PID] [--tid TID] [--raw] [--errors]\n"
    "                        [--format table|csv|json|markdown] DB\n";

constexpr const char *Help = R"(
The functions where the time goes, most self time first: calls, total and self time,
mean ± standard deviation, p95, max and share of all profiled time. When the run measured CPU
time (SCOPEPROF_COUNTERS=cpu, the default), also self CPU time, self waiting time (self time
off the CPU) and share of all CPU time, ranked by self CPU time: what a sampling profiler's
"self" is. When it counted allocations (SCOPEPROF_COUNTERS=memory), also allocations and
bytes allocated, inclusive, and the bytes the function allocated itself.

  --by KEY          sort by cpu (self CPU time; the default when measured), self (self wall
                    time; the default otherwise), wait (self time off the CPU), total, calls,
                    mean, p95, allocs or alloc_bytes (allocations and bytes, inclusive)
  --top N           the first N functions (default 20; 0: all)
  --function GLOB   only functions whose qualified name matches (rules syntax: app::**)
  --file GLOB       only functions defined in matching files (src/**)
  --run RUN         run name or id (default: the latest loaded)
  --pid PID         only calls of this process;  --tid TID: of this thread
  --case GLOB       only calls of the profile cases whose names match (Demo::slow, Demo::*:
                    their measured repetitions, not the warm-ups; docs/cases.md)
  --raw             times as measured; by default the measured cost of the scopes themselves
                    is subtracted (overhead compensation)
  --errors          the exceptions that broke calls, with their tracebacks
  --format F        table (default), csv, json or markdown
)";

std::string runHeadline(db::Database &Db, int64_t Run) {
  auto S = Db.prepare("SELECT r.name, (SELECT count(*) FROM processes WHERE run_id=r.id), "
                      "(SELECT count(*) FROM threads WHERE run_id=r.id), r.end_ns - r.start_ns, "
                      "(SELECT count(*) FROM runs) FROM runs r WHERE r.id=?1");
  S.bind(1, Run);
  S.step();
  return fmt::format("run {} ({} of {} in the database): {} processes, {} threads, {} wall",
                     S.text(0), Run, S.integer(4), S.integer(1), S.integer(2),
                     formatDuration(static_cast<double>(S.integer(3))));
}

/// "cases Demo::fast, Demo::slow (6 repetitions)"; in markdown the names are code.
std::string caseHeadline(const db::CaseSelection &Cases, bool Markdown) {
  std::string Names;
  for (const auto &N : Cases.Names)
    Names += (Names.empty() ? "" : ", ") + (Markdown ? "`" + N + "`" : N);
  return fmt::format("case{} {} ({} repetition{})", Cases.Names.size() == 1 ? "" : "s", Names,
                     Cases.Repetitions, Cases.Repetitions == 1 ? "" : "s");
}

int reportErrors(db::Database &Db, int64_t Run, const db::CallFilter &Filter, Format F) {
  std::string Sql = "SELECT count(*), type, message, traceback, min(pid), max(frames) "
                    "FROM exceptions WHERE run_id=?1";
  if (Filter.Pid)
    Sql += " AND pid=?2";
  if (Filter.Tid)
    Sql += " AND tid=?3";
  // An exception's id is that of the innermost call it broke: the case is that call's.
  Sql += Filter.casesClause("(SELECT case_id FROM calls WHERE calls.id = exceptions.id)");
  Sql += " GROUP BY type, message, traceback ORDER BY count(*) DESC";
  auto S = Db.prepare(Sql);
  S.bind(1, Run);
  if (Filter.Pid)
    S.bind(2, *Filter.Pid);
  if (Filter.Tid)
    S.bind(3, *Filter.Tid);
  Table T;
  T.Columns = {"times", "exception", "message", "thrown in", "unwound through", "pid"};
  T.Keys = {"times", "type", "message", "thrown_in", "traceback", "pid"};
  T.RightAligned = {true, false, false, false, false, true};
  T.Shrinkable = {3, 2};
  while (S.step()) {
    std::string Traceback = S.text(3);
    std::string Innermost = Traceback.substr(0, Traceback.find('\n'));
    Cell Unwound = Cell::text(Traceback);
    int64_t Frames = S.integer(5);
    Unwound.Display = fmt::format("{} scope{}", Frames, Frames == 1 ? "" : "s");
    T.Rows.push_back({Cell::integer(S.integer(0)), Cell::code(S.text(1)), Cell::text(S.text(2)),
                      Cell::code(Innermost), Unwound, Cell::integer(S.integer(4))});
  }
  if (F == Format::Table && T.Rows.empty()) {
    fmt::print("no call was broken by an exception\n");
    return ExitOk;
  }
  printTable(T, F);
  return ExitOk;
}

} // namespace

int runReport(const std::vector<std::string> &Argv) {
  int Exit;
  auto Args = parseCommand(Argv,
                           {{"--by", true},
                            {"--top", true},
                            {"--function", true},
                            {"--file", true},
                            {"--run", true},
                            {"--pid", true},
                            {"--tid", true},
                            {"--case", true},
                            {"--raw"},
                            {"--errors"},
                            {"--format", true}},
                           Usage, Help, Exit);
  if (!Args)
    return Exit;
  if (Args->Positional.size() != 1)
    return usageError("'report' needs exactly one database", Usage);
  auto F = parseFormat(Args->value("--format").value_or("table"));
  if (!F)
    return usageError(fmt::format("unknown format '{}'", *Args->value("--format")), Usage);
  std::optional<std::string> By = Args->value("--by");
  static const std::vector<std::string> Keys = {"cpu",  "self", "wait",   "total",      "calls",
                                                "mean", "p95",  "allocs", "alloc_bytes"};
  if (By && std::find(Keys.begin(), Keys.end(), *By) == Keys.end())
    return usageError(fmt::format("unknown sort key '{}' (expected cpu, self, wait, total, calls, "
                                  "mean, p95, allocs or alloc_bytes)",
                                  *By),
                      Usage);
  auto Top = parseCount(Args->value("--top").value_or("20"));
  if (!Top)
    return usageError(fmt::format("--top needs a number, not '{}'", *Args->value("--top")), Usage);
  db::CallFilter Filter;
  Filter.Raw = Args->has("--raw");
  for (auto [Option, Field] : {std::pair{"--pid", &Filter.Pid}, std::pair{"--tid", &Filter.Tid}}) {
    if (auto V = Args->value(Option)) {
      *Field = parseCount(*V);
      if (!*Field)
        return usageError(fmt::format("{} needs a number, not '{}'", Option, *V), Usage);
    }
  }
  std::optional<rules::Glob> FunctionGlob, FileGlob;
  for (auto [Option, Glob, Sep] : {std::tuple{"--function", &FunctionGlob, rules::Separator::Scope},
                                   std::tuple{"--file", &FileGlob, rules::Separator::Path}}) {
    if (auto Pattern = Args->value(Option)) {
      rules::GlobError Err;
      *Glob = rules::Glob::compile(*Pattern, Sep, &Err);
      if (!*Glob)
        return usageError(fmt::format("bad {} pattern '{}': column {}: {}", Option, *Pattern,
                                      Err.Column + 1, Err.Message),
                          Usage);
    }
  }

  try {
    auto Db = db::openForRead(Args->Positional[0]);
    int64_t Run = db::findRun(*Db, Args->value("--run").value_or(""));
    std::optional<db::CaseSelection> Cases;
    if (auto Case = Args->value("--case")) {
      Cases = db::selectCases(*Db, Run, *Case);
      Filter.Cases = Cases->Ids;
    }
    if (Args->has("--errors"))
      return reportErrors(*Db, Run, Filter, *F);
    auto Sites = db::loadSiteNames(*Db);
    auto Stats = db::computeSiteStats(*Db, Run, Filter);
    // CPU times are of compensated calls: --raw has none to show.
    bool HasCpu = !Filter.Raw && std::any_of(Stats.begin(), Stats.end(),
                                             [](const auto &St) { return St.SelfCpuCalls > 0; });
    bool HasMemory = std::any_of(Stats.begin(), Stats.end(),
                                 [](const auto &St) { return St.AllocCalls > 0; });
    bool HasPeak = std::any_of(Stats.begin(), Stats.end(),
                               [](const auto &St) { return St.PeakCalls > 0; });
    if (!By)
      By = HasCpu ? "cpu" : "self";
    if ((*By == "allocs" || *By == "alloc_bytes") && !HasMemory)
      throw db::InputError(fmt::format("--by {}: run {} has no allocation counts (recorded "
                                       "without SCOPEPROF_COUNTERS=memory)",
                                       *By, Run));
    if ((*By == "cpu" || *By == "wait") && !HasCpu)
      throw db::InputError(
          Filter.Raw ? fmt::format("--by {} with --raw: CPU times are of compensated calls only", *By)
                     : fmt::format("--by {}: run {} has no CPU times (recorded with "
                                   "SCOPEPROF_COUNTERS=none, or the kernel refused to report "
                                   "context switches)",
                                   *By, Run));
    double AllSelf = 0, AllSelfCpu = 0;
    for (const auto &St : Stats) {
      AllSelf += static_cast<double>(St.SelfNs);
      AllSelfCpu += static_cast<double>(St.SelfCpuNs);
    }
    auto Selected = [&](const db::SiteStats &St) {
      const db::SiteName &S = Sites[St.SiteId];
      return (!FunctionGlob || FunctionGlob->matches(rules::qualifiedNameOf(S.Signature))) &&
             (!FileGlob || FileGlob->matches(S.File));
    };
    Stats.erase(
        std::remove_if(Stats.begin(), Stats.end(), [&](const auto &St) { return !Selected(St); }),
        Stats.end());
    auto Key = [&](const db::SiteStats &St) -> double {
      if (By == "cpu")
        return static_cast<double>(St.SelfCpuNs);
      if (By == "wait")
        return static_cast<double>(St.SelfWaitNs);
      if (By == "total")
        return static_cast<double>(St.TotalNs);
      if (By == "calls")
        return static_cast<double>(St.Calls);
      if (By == "mean")
        return St.MeanNs;
      if (By == "p95")
        return static_cast<double>(St.P95Ns);
      if (By == "allocs")
        return static_cast<double>(St.Allocs);
      if (By == "alloc_bytes")
        return static_cast<double>(St.AllocBytes);
      return static_cast<double>(St.SelfNs);
    };
    std::stable_sort(Stats.begin(), Stats.end(),
                     [&](const auto &A, const auto &B) { return Key(A) > Key(B); });
    if (*Top && Stats.size() > static_cast<size_t>(*Top))
      Stats.resize(static_cast<size_t>(*Top));

    Table T = functionTable();
    if (HasCpu) {
      // After self time, and the CPU share after the time share.
      T.Columns.insert(T.Columns.begin() + 4, {"self cpu", "self wait"});
      T.Keys.insert(T.Keys.begin() + 4, {"self_cpu_ns", "self_wait_ns"});
      T.Columns.insert(T.Columns.begin() + 11, "% cpu");
      T.Keys.insert(T.Keys.begin() + 11, "percent_cpu");
      T.RightAligned.insert(T.RightAligned.begin() + 4, 3, true);
      T.Shrinkable = {13, 12, 0};
    }
    if (HasMemory) {
      // Before the file and the note.
      T.Columns.insert(T.Columns.end() - 2, {"allocs", "alloc bytes", "self alloc"});
      T.Keys.insert(T.Keys.end() - 2, {"allocs", "alloc_bytes", "self_alloc_bytes"});
      T.RightAligned.insert(T.RightAligned.end() - 2, 3, true);
      if (HasPeak) {
        T.Columns.insert(T.Columns.end() - 2, "max peak");
        T.Keys.insert(T.Keys.end() - 2, "max_peak_bytes");
        T.RightAligned.insert(T.RightAligned.end() - 2, true);
      }
      T.Shrinkable = {T.Columns.size() - 1, T.Columns.size() - 2, 0};
    }
    auto Duration = [](double Ns) {
      return Cell::integer(static_cast<int64_t>(Ns), formatDuration(Ns));
    };
    for (const auto &St : Stats) {
      const db::SiteName &S = Sites[St.SiteId];
      double Share = AllSelf > 0 ? 100.0 * static_cast<double>(St.SelfNs) / AllSelf : 0;
      // What compensation took away is more than what is left: the self time is the scopes'
      // cost, not the function's, and no number printed for it would be true.
      // A throttled site whose own time the CPU samples gave was not measured call by call.
      bool FromSamples = St.OwnFromCpuSamples && (St.Estimated > 0 || St.CutOff);
      int64_t Correction = St.RawSelfNs - St.SelfNs;
      bool OverheadBound = !Filter.Raw && !FromSamples && Correction > St.SelfNs;
      Cell SelfCell = Duration(static_cast<double>(St.SelfNs));
      std::vector<std::string> Notes;
      if (OverheadBound) {
        SelfCell.Display = "~0";
        Notes.push_back(fmt::format("self within scope overhead ({} of {} measured)",
                                    formatDuration(static_cast<double>(Correction)),
                                    formatDuration(static_cast<double>(St.RawSelfNs))));
      }
      if (St.Throttled) {
        std::string When = St.ThrottledAfter
                               ? fmt::format("after {} calls", St.ThrottledAfter)
                               : std::string("before this process called it (inherited at fork)");
        Notes.push_back(St.CutOff ? "throttled " + When + ", not counted since"
                                  : "throttled " + When + ", then sampled");
      }
      if (FromSamples)
        Notes.push_back("self time from CPU samples");
      // Counted calls never have a CPU time, nor do calls whose thread was not tracked then.
      if (int64_t Measured = St.Calls - St.Estimated; HasCpu && St.SelfCpuCalls < Measured)
        Notes.push_back(St.SelfCpuCalls
                            ? fmt::format("self cpu time of {} of {} calls", St.SelfCpuCalls, Measured)
                            : std::string("no self cpu time"));
      std::string Note;
      for (const auto &N : Notes)
        Note += (Note.empty() ? "" : "; ") + N;
      std::vector<Cell> Cpu;
      if (HasCpu) {
        double CpuShare = AllSelfCpu > 0 ? 100.0 * static_cast<double>(St.SelfCpuNs) / AllSelfCpu : 0;
        Cpu = {St.SelfCpuCalls ? Duration(static_cast<double>(St.SelfCpuNs)) : Cell::null(),
               St.SelfCpuCalls ? Duration(static_cast<double>(St.SelfWaitNs)) : Cell::null(),
               Cell::real(CpuShare, fmt::format("{:.1f}", CpuShare))};
      }
      T.Rows.push_back(
          {Cell::code(S.Signature), Cell::integer(St.Calls),
           Duration(static_cast<double>(St.TotalNs)), SelfCell,
           Cell::real(St.MeanNs, formatDuration(St.MeanNs)),
           St.Recorded > 1 ? Cell::real(St.StddevNs, formatDuration(St.StddevNs)) : Cell::null(),
           St.HasPercentiles
               ? Cell::integer(St.P95Ns, (St.P95UnderThreshold ? "< " : "") +
                                             formatDuration(static_cast<double>(St.P95Ns)))
               : Cell::null(),
           St.Recorded ? Duration(static_cast<double>(St.MaxNs)) : Cell::null(),
           Cell::real(Share, fmt::format("{:.1f}", Share)), Cell::code(S.location()),
           Note.empty() ? Cell::null() : Cell::text(Note)});
      if (HasCpu) {
        auto &Row = T.Rows.back();
        Row.insert(Row.begin() + 4, Cpu.begin(), Cpu.begin() + 2);
        Row.insert(Row.begin() + 11, Cpu[2]);
      }
      if (HasMemory) {
        auto &Row = T.Rows.back();
        auto Counted = [&](int64_t V) { return St.AllocCalls ? Cell::integer(V) : Cell::null(); };
        auto Bytes = [&](int64_t V) {
          return St.AllocCalls ? Cell::integer(V, formatBytes(static_cast<double>(V))) : Cell::null();
        };
        Row.insert(Row.end() - 2,
                   {Counted(St.Allocs), Bytes(St.AllocBytes), Bytes(St.SelfAllocBytes)});
        if (HasPeak)
          Row.insert(Row.end() - 2,
                     St.PeakCalls ? Cell::integer(St.MaxPeakBytes,
                                                  formatBytes(static_cast<double>(St.MaxPeakBytes)))
                                  : Cell::null());
      }
    }
    // Which cases the figures are of: a line above the table, a key of the JSON object.
    if (*F == Format::Table)
      fmt::print("{}\n{}\n", printable(runHeadline(*Db, Run)),
                 Cases ? printable(caseHeadline(*Cases, false)) + "\n" : "");
    if (Cases && *F == Format::Markdown)
      fmt::print("{}\n\n", caseHeadline(*Cases, true));
    if (Cases && *F == Format::Json) {
      std::string Names;
      for (const auto &N : Cases->Names)
        Names += (Names.empty() ? "" : ", ") + jsonString(N);
      fmt::print("{{\"cases\": [{}], \"repetitions\": {}, \"functions\": ", Names,
                 Cases->Repetitions);
    }
    printTable(T, *F);
    if (Cases && *F == Format::Json)
      fmt::print("}}\n");
    return ExitOk;
  } catch (const db::DbError &E) {
    return reportFailure(E);
  }
}

} // namespace scopeprof::cli
