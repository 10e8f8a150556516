// One row per call, for spreadsheets. Every time is in ns (the header says so), the start
// also as a UTC date for people. The counters come last, so that scripts reading columns by
// position keep working; an empty cell is a counter not measured.
#include "Export.h"

#include <fmt/core.h>

#include <ctime>

namespace scopeprof::cli::exporter {
namespace {

std::string isoTime(int64_t WallNs) {
  std::time_t Seconds = static_cast<std::time_t>(WallNs / 1'000'000'000);
  std::tm Tm;
  gmtime_r(&Seconds, &Tm);
  char Buf[32];
  std::strftime(Buf, sizeof(Buf), "%Y-%m-%dT%H:%M:%S", &Tm);
  return fmt::format("{}.{:09}Z", Buf, WallNs % 1'000'000'000);
}

} // namespace

void exportCsv(db::Database &Db, const Options &O, OutputFile &Out) {
  Out.print("id,start_ns,start_utc,duration_ns,self_ns,function,file,line,depth,parent_id,pid,"
            "ppid,process,parent_process,tid,thread,broken,error_type,error_value,traceback,"
            "cpu_ns,self_cpu_ns,allocs,alloc_bytes,self_alloc_bytes\n");
  // A forked child's outermost calls, and calls under one still running when the logs were
  // loaded, name a parent that is in no table (docs/schema.md): no parent here.
  auto Calls = Db.prepare(
      "SELECT c.id, c.start_ns - ?7, p.start_wall_ns + (c.start_ns - p.calibration_ns), "
      "c.duration_ns, c.self_ns, s.signature, s.file, s.line, c.depth, pc.id, c.pid, p.ppid, "
      "p.name, p.parent_name, c.tid, t.name, c.broken, e.type, e.message, e.traceback, "
      "c.cpu_ns, c.self_cpu_ns, c.allocs, c.alloc_bytes, c.self_alloc_bytes "
      "FROM calls c JOIN threads t ON t.id = c.thread_id JOIN processes p ON p.id = t.process_id "
      "JOIN sites s ON s.id = c.site_id LEFT JOIN exceptions e ON e.id = c.exception_id "
      "LEFT JOIN calls pc ON pc.id = c.parent_id WHERE c.run_id=?1" +
      std::string(O.Filter.Pid ? " AND c.pid=?2" : "") + (O.Filter.Tid ? " AND c.tid=?3" : "") +
      O.Filter.casesClause("c.case_id") +
      " AND c.end_ns >= ?4 AND c.start_ns <= ?5 AND c.duration_ns >= ?6 ORDER BY c.id");
  Calls.bind(1, O.Run);
  if (O.Filter.Pid)
    Calls.bind(2, *O.Filter.Pid);
  if (O.Filter.Tid)
    Calls.bind(3, *O.Filter.Tid);
  Calls.bind(4, O.From).bind(5, O.To).bind(6, O.MinDuration).bind(7, O.RunStart);
  while (Calls.step()) {
    std::string Line =
        fmt::format("{},{},{}", Calls.integer(0), Calls.integer(1), isoTime(Calls.integer(2)));
    for (int I = 3; I < 25; ++I)
      Line += "," + (Calls.isNull(I) ? std::string() : csvField(Calls.text(I)));
    Out.print("{}\n", Line);
  }
}

} // namespace scopeprof::cli::exporter
