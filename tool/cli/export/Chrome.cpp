// Chrome trace event JSON (chrome://tracing, Perfetto UI, DevTools, speedscope): one "X"
// event per call, a named and ordered track per thread.
#include "Export.h"

#include <map>
#include <set>

namespace scopeprof::cli::exporter {

void exportChrome(db::Database &Db, const Options &O, OutputFile &Out) {
  Out.print("{{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
  bool First = true;
  auto sep = [&] {
    const char *S = First ? "" : ",\n";
    First = false;
    return S;
  };
  auto Lanes = lanes(Db, O);
  // Viewers add the pid and tid to these names themselves; the sort indexes keep the
  // process tree's order with each main thread first.
  std::set<int64_t> Named;
  for (size_t I = 0; I < Lanes.size(); ++I) {
    const Lane &L = Lanes[I];
    if (Named.insert(L.Pid).second)
      Out.print(
          "{}{{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":{},\"args\":{{\"name\":{}}}}},\n"
          "{{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":{},\"args\":{{"
          "\"sort_index\":{}}}}}",
          sep(), L.Pid, jsonString(L.Process), L.Pid, L.ProcessRank);
    Out.print("{}{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":{},\"tid\":{},\"args\":{{\"name\":"
              "{}}}}},\n{{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":{},\"tid\":{},"
              "\"args\":{{\"sort_index\":{}}}}}",
              sep(), L.Pid, L.Tid, jsonString(L.Thread), L.Pid, L.Tid, I);
  }
  std::map<int64_t, const Lane *> ByThread;
  for (const Lane &L : Lanes)
    ByThread[L.ThreadId] = &L;
  auto Sites = db::loadSiteNames(Db);
  CallStream Calls(Db, O, Lanes);
  Call C;
  auto micros = [&](int64_t Ns) { return static_cast<double>(Ns) / 1e3; };
  while (Calls.next(C)) {
    const db::SiteName &S = Sites[C.Site];
    const Lane &L = *ByThread[C.ThreadId];
    int64_t Start = O.clip(C.Start), End = O.clip(C.End);
    // args hold only what is the same for every call of a function: speedscope tells
    // functions apart by name and args, so anything per call would split them.
    Out.print("{}{{\"ph\":\"X\",\"name\":{},\"cat\":\"{}\",\"pid\":{},\"tid\":{},\"ts\":{:.3f},"
              "\"dur\":{:.3f},\"args\":{{\"file\":{}}}}}",
              sep(), jsonString(S.Signature), C.Broken ? "broken" : "call", L.Pid, L.Tid,
              micros(Start - O.RunStart), micros(End - Start), jsonString(S.location()));
    // An exception is an instant event where it was thrown (its innermost call ended).
    if (C.Broken && C.ExceptionId == C.Id && C.End <= O.To) // once, at the innermost call
      Out.print("{}{{\"ph\":\"i\",\"s\":\"t\",\"name\":\"exception\",\"cat\":\"broken\",\"pid\":{},"
                "\"tid\":{},\"ts\":{:.3f},\"args\":{{\"function\":{},\"error\":{}}}}}",
                sep(), L.Pid, L.Tid, micros(End - O.RunStart), jsonString(S.Signature),
                jsonString(exceptionText(Db, C.ExceptionId)));
  }
  Out.print("\n]}}\n");
}

} // namespace scopeprof::cli::exporter
