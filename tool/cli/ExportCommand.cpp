// `scopeprof export DB --format chrome|folded|calltree|dot|csv -o FILE`: a run for other tools.
// Chrome and CSV stream the calls; folded, calltree and dot aggregate by call path or site.
#include "Args.h"
#include "Commands.h"
#include "Output.h"

#include "Schema.h"
#include "Stats.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <unistd.h>

namespace scopeprof::cli {
namespace {

constexpr const char *Usage =
    "usage: scopeprof export --format chrome|folded|calltree|dot|csv -o FILE [--run RUN]\n"
    "                        [--pid PID] [--tid TID] [--from TIME] [--to TIME]\n"
    "                        [--min-duration TIME] DB\n";

constexpr const char *Help = R"(
  chrome     Chrome trace event JSON: open in https://ui.perfetto.dev or chrome://tracing
  folded     folded stacks (self time in ns) for flamegraph.pl and speedscope
  calltree   the call tree of every thread as JSON, calls merged by path
  dot        Graphviz call graph: calls and time on the edges (dot -Tsvg FILE)
  csv        one row per call, for spreadsheets

  -o FILE            where to write ('-': stdout); written whole or not at all
  --run RUN          run name or id (default: the latest loaded)
  --pid, --tid       only this process / thread
  --from, --to TIME  chrome and csv: only calls starting in this window after the run's start
                     (250ms, 1.5s, ...)
  --min-duration T   chrome and csv: only calls at least this long
)";

struct Options {
  int64_t Run = 0;
  db::CallFilter Filter;
  uint64_t From = 0, To = UINT64_MAX, MinDuration = 0;
};

/// " AND ..." for the process/thread filter on table alias c (parameters ?2 and ?3).
std::string filterSql(const db::CallFilter &F) {
  return std::string(F.Pid ? " AND c.pid=?2" : "") + (F.Tid ? " AND c.tid=?3" : "");
}

void bindFilter(db::Statement &S, const Options &O) {
  S.bind(1, O.Run);
  if (O.Filter.Pid)
    S.bind(2, *O.Filter.Pid);
  if (O.Filter.Tid)
    S.bind(3, *O.Filter.Tid);
}

int64_t runStart(db::Database &Db, int64_t Run) {
  auto S = Db.prepare("SELECT coalesce(start_ns, 0) FROM runs WHERE id=?1");
  S.bind(1, Run).step();
  return S.integer(0);
}

/// Calls in the time window: ?4, ?5 absolute start bounds, ?6 minimum duration.
db::Statement windowedCalls(db::Database &Db, const std::string &Columns, const std::string &Joins,
                            const Options &O) {
  auto S = Db.prepare(
      "SELECT " + Columns + " FROM calls c " + Joins + " WHERE c.run_id=?1" + filterSql(O.Filter) +
      " AND c.start_ns >= ?4 AND c.start_ns <= ?5 AND c.duration_ns >= ?6 ORDER BY c.id");
  bindFilter(S, O);
  auto Base = static_cast<uint64_t>(runStart(Db, O.Run));
  S.bind(4, Base + O.From)
      .bind(5, O.To == UINT64_MAX ? INT64_MAX : static_cast<int64_t>(Base + O.To))
      .bind(6, O.MinDuration);
  return S;
}

void exportChrome(db::Database &Db, const Options &O, OutputFile &Out) {
  int64_t Base = runStart(Db, O.Run);
  Out.print("{{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
  bool First = true;
  auto sep = [&] {
    const char *S = First ? "" : ",\n";
    First = false;
    return S;
  };
  auto Threads = Db.prepare("SELECT t.pid, t.tid, coalesce(t.name, ''), coalesce(p.name, ''), "
                            "t.tid = t.pid FROM threads t JOIN processes p ON p.id = t.process_id "
                            "WHERE t.run_id=?1 ORDER BY t.id");
  Threads.bind(1, O.Run);
  while (Threads.step()) {
    if (Threads.integer(4))
      Out.print("{}{{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":{},\"tid\":0,\"args\":{{"
                "\"name\":{}}}}}",
                sep(), Threads.integer(0),
                jsonString(fmt::format("{} ({})", Threads.text(3), Threads.integer(0))));
    Out.print("{}{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":{},\"tid\":{},\"args\":{{\"name\":"
              "{}}}}}",
              sep(), Threads.integer(0), Threads.integer(1), jsonString(Threads.text(2)));
  }
  auto Sites = db::loadSiteNames(Db);
  auto Calls =
      windowedCalls(Db,
                    "c.site_id, c.pid, c.tid, c.start_ns, c.duration_ns, c.self_ns, c.broken, "
                    "e.type, e.message",
                    "LEFT JOIN exceptions e ON e.id = c.exception_id", O);
  while (Calls.step()) {
    const db::SiteName &S = Sites[Calls.integer(0)];
    bool Broken = Calls.integer(6);
    std::string Args = fmt::format("\"file\":{},\"self_us\":{:.3f}", jsonString(S.location()),
                                   static_cast<double>(Calls.integer(5)) / 1e3);
    if (Broken)
      Args += fmt::format(",\"broken\":true,\"error\":{}",
                          jsonString(Calls.text(7) + ": " + Calls.text(8)));
    Out.print("{}{{\"ph\":\"X\",\"name\":{},\"cat\":\"{}\",\"pid\":{},\"tid\":{},\"ts\":{:.3f},"
              "\"dur\":{:.3f},\"args\":{{{}}}}}",
              sep(), jsonString(S.Signature), Broken ? "broken" : "call", Calls.integer(1),
              Calls.integer(2), static_cast<double>(Calls.integer(3) - Base) / 1e3,
              static_cast<double>(Calls.integer(4)) / 1e3, Args);
  }
  Out.print("\n]}}\n");
}

/// Calls of each thread in start order, outermost first, with the stack of sites above them.
template <typename Visit> void walkStacks(db::Database &Db, const Options &O, Visit &&V) {
  auto Calls = Db.prepare("SELECT c.thread_id, c.site_id, c.depth, c.duration_ns, c.self_ns "
                          "FROM calls c WHERE c.run_id=?1" +
                          filterSql(O.Filter) + " ORDER BY c.thread_id, c.start_ns, c.depth");
  bindFilter(Calls, O);
  std::vector<std::pair<int64_t, int64_t>> Stack; // (depth, site)
  int64_t Thread = -1;
  while (Calls.step()) {
    if (Calls.integer(0) != Thread) {
      Thread = Calls.integer(0);
      Stack.clear();
    }
    int64_t Depth = Calls.integer(2);
    while (!Stack.empty() && Stack.back().first >= Depth)
      Stack.pop_back();
    Stack.push_back({Depth, Calls.integer(1)});
    V(Thread, Stack, Calls.integer(3), Calls.integer(4));
  }
}

/// flamegraph.pl treats ';' as the frame separator, the last space as the value's and a
/// line as a stack.
std::string frameName(const std::string &Signature) {
  std::string Out = Signature;
  for (char &C : Out)
    if (C == ';')
      C = ',';
    else if (C == '\n' || C == '\r')
      C = ' ';
  return Out;
}

void exportFolded(db::Database &Db, const Options &O, OutputFile &Out) {
  auto Sites = db::loadSiteNames(Db);
  std::map<std::string, int64_t> Stacks;
  walkStacks(Db, O, [&](int64_t, const auto &Stack, int64_t, int64_t Self) {
    std::string Path;
    for (const auto &[Depth, Site] : Stack)
      Path += (Path.empty() ? "" : ";") + frameName(Sites[Site].Signature);
    Stacks[Path] += Self;
  });
  for (const auto &[Path, Self] : Stacks)
    Out.print("{} {}\n", Path, Self);
}

struct TreeNode {
  int64_t Calls = 0, TotalNs = 0, SelfNs = 0;
  std::map<int64_t, TreeNode> Children; // by site
};

void printTree(OutputFile &Out, const std::map<int64_t, TreeNode> &Nodes,
               std::map<int64_t, db::SiteName> &Sites, int Indent) {
  bool First = true;
  std::string Pad(static_cast<size_t>(Indent), ' ');
  for (const auto &[Site, N] : Nodes) {
    Out.print("{}\n{}{{\"function\":{},\"file\":{},\"calls\":{},\"total_ns\":{},\"self_ns\":{},"
              "\"children\":[",
              First ? "" : ",", Pad, jsonString(Sites[Site].Signature),
              jsonString(Sites[Site].location()), N.Calls, N.TotalNs, N.SelfNs);
    First = false;
    printTree(Out, N.Children, Sites, Indent + 1);
    Out.print("{}]}}", N.Children.empty() ? "" : "\n" + Pad);
  }
}

void exportCallTree(db::Database &Db, const Options &O, OutputFile &Out) {
  auto Sites = db::loadSiteNames(Db);
  std::map<int64_t, TreeNode> Threads;
  walkStacks(Db, O, [&](int64_t Thread, const auto &Stack, int64_t Duration, int64_t Self) {
    TreeNode *N = &Threads[Thread];
    for (const auto &[Depth, Site] : Stack)
      N = &N->Children[Site];
    ++N->Calls;
    N->TotalNs += Duration;
    N->SelfNs += Self;
  });
  Out.print("{{\"threads\":[");
  auto Info = Db.prepare("SELECT t.pid, t.tid, coalesce(t.name, ''), coalesce(p.name, '') "
                         "FROM threads t JOIN processes p ON p.id = t.process_id WHERE t.id=?1");
  bool First = true;
  for (const auto &[Thread, Root] : Threads) {
    Info.bind(1, Thread);
    Info.step();
    Out.print("{}\n{{\"pid\":{},\"tid\":{},\"thread\":{},\"process\":{},\"calls\":[",
              First ? "" : ",", Info.integer(0), Info.integer(1), jsonString(Info.text(2)),
              jsonString(Info.text(3)));
    Info.reset();
    First = false;
    printTree(Out, Root.Children, Sites, 1);
    Out.print("]}}");
  }
  Out.print("\n]}}\n");
}

std::string dotString(const std::string &S) {
  std::string Out = "\"";
  for (char C : S)
    Out += C == '"' || C == '\\' ? std::string("\\") + C : std::string(1, C);
  return Out + "\"";
}

void exportDot(db::Database &Db, const Options &O, OutputFile &Out) {
  auto Sites = db::loadSiteNames(Db);
  Out.print("digraph calls {{\n  node [shape=box, fontname=\"monospace\"];\n");
  for (const auto &St : db::computeSiteStats(Db, O.Run, O.Filter))
    Out.print("  s{} [label={}];\n", St.SiteId,
              dotString(fmt::format("{}\n{} calls, total {}, self {}", Sites[St.SiteId].Signature,
                                    St.Calls, formatDuration(static_cast<double>(St.TotalNs)),
                                    formatDuration(static_cast<double>(St.SelfNs)))));
  auto Edges =
      Db.prepare("SELECT p.site_id, c.site_id, count(*), total(c.duration_ns) FROM calls c "
                 "JOIN calls p ON p.id = c.parent_id WHERE c.run_id=?1" +
                 filterSql(O.Filter) + " GROUP BY p.site_id, c.site_id");
  bindFilter(Edges, O);
  while (Edges.step())
    Out.print("  s{} -> s{} [label={}];\n", Edges.integer(0), Edges.integer(1),
              dotString(fmt::format("{} x, {}", Edges.integer(2),
                                    formatDuration(static_cast<double>(Edges.integer(3))))));
  Out.print("}}\n");
}

std::string isoTime(int64_t WallNs) {
  std::time_t Seconds = static_cast<std::time_t>(WallNs / 1'000'000'000);
  std::tm Tm;
  gmtime_r(&Seconds, &Tm);
  char Buf[32];
  std::strftime(Buf, sizeof(Buf), "%Y-%m-%dT%H:%M:%S", &Tm);
  return fmt::format("{}.{:06}Z", Buf, (WallNs % 1'000'000'000) / 1000);
}

void exportCsv(db::Database &Db, const Options &O, OutputFile &Out) {
  Out.print("id,time,duration_ns,self_ns,function,file,line,depth,parent_id,pid,ppid,process,"
            "parent_process,tid,thread,broken,error_type,error_value,traceback\n");
  auto Calls = windowedCalls(
      Db,
      "c.id, p.start_wall_ns + (c.start_ns - p.calibration_ns), c.duration_ns, c.self_ns, "
      "s.signature, s.file, s.line, c.depth, c.parent_id, c.pid, p.ppid, p.name, p.parent_name, "
      "c.tid, t.name, c.broken, e.type, e.message, e.traceback",
      "JOIN threads t ON t.id = c.thread_id JOIN processes p ON p.id = t.process_id "
      "JOIN sites s ON s.id = c.site_id LEFT JOIN exceptions e ON e.id = c.exception_id",
      O);
  while (Calls.step()) {
    std::string Line = std::to_string(Calls.integer(0)) + "," + isoTime(Calls.integer(1));
    for (int I = 2; I < 19; ++I)
      Line += "," + (Calls.isNull(I) ? std::string() : csvField(Calls.text(I)));
    Out.print("{}\n", Line);
  }
}

} // namespace

int runExport(const std::vector<std::string> &Argv) {
  int Exit;
  auto Args = parseCommand(Argv,
                           {{"--format", true},
                            {"-o", true},
                            {"--run", true},
                            {"--pid", true},
                            {"--tid", true},
                            {"--from", true},
                            {"--to", true},
                            {"--min-duration", true}},
                           Usage, Help, Exit);
  if (!Args)
    return Exit;
  if (Args->Positional.size() != 1)
    return usageError("'export' needs exactly one database", Usage);
  static const std::map<std::string, void (*)(db::Database &, const Options &, OutputFile &)>
      Exporters = {{"chrome", exportChrome},
                   {"folded", exportFolded},
                   {"calltree", exportCallTree},
                   {"dot", exportDot},
                   {"csv", exportCsv}};
  auto Format = Args->value("--format");
  if (!Format)
    return usageError("'export' needs --format", Usage);
  auto Exporter = Exporters.find(*Format);
  if (Exporter == Exporters.end())
    return usageError(fmt::format("unknown export format '{}'", *Format), Usage);
  auto Target = Args->value("-o");
  if (!Target)
    return usageError("'export' needs -o FILE ('-' for stdout)", Usage);
  Options O;
  for (auto [Option, Field] :
       {std::pair{"--pid", &O.Filter.Pid}, std::pair{"--tid", &O.Filter.Tid}})
    if (auto V = Args->value(Option)) {
      *Field = parseCount(*V);
      if (!*Field)
        return usageError(fmt::format("{} needs a number, not '{}'", Option, *V), Usage);
    }
  for (auto [Option, Field] : {std::pair{"--from", &O.From}, std::pair{"--to", &O.To},
                               std::pair{"--min-duration", &O.MinDuration}})
    if (auto V = Args->value(Option)) {
      auto D = parseDuration(*V);
      if (!D)
        return usageError(fmt::format("{} needs a duration like 250ms, not '{}'", Option, *V),
                          Usage);
      *Field = *D;
    }
  try {
    auto Db = db::openForRead(Args->Positional[0]);
    O.Run = db::findRun(*Db, Args->value("--run").value_or(""));
    OutputFile Out(*Target);
    Exporter->second(*Db, O, Out);
    Out.commit();
    return ExitOk;
  } catch (const db::DbError &E) {
    return reportFailure(E);
  }
}

} // namespace scopeprof::cli
