// Chrome trace event JSON (chrome://tracing, Perfetto UI, DevTools, speedscope): one "X"
// event per call, a named and ordered track per thread, and the counters where the run
// measured them: CPU time as each call's thread duration, allocated bytes as a counter track
// per thread.
#include "Export.h"

#include <map>
#include <set>

namespace scopeprof::cli::exporter {
namespace {

class Writer : public SliceSink {
public:
  Writer(db::Database &Db, const Options &O, OutputFile &Out, const std::vector<Lane> &Lanes)
      : Db(Db), O(O), Out(Out), Sites(db::loadSiteNames(Db)) {
    for (const Lane &L : Lanes)
      ByThread[L.ThreadId] = &L;
  }

  const char *sep() {
    const char *S = First ? "" : ",\n";
    First = false;
    return S;
  }

  void beginLane(const Lane &L) override {
    Current = &L;
    Bytes = 0;
    Counting = false;
  }

  void begin(const Call &C, int64_t) override {
    const db::SiteName &S = Sites[C.Site];
    const Lane &L = *ByThread[C.ThreadId];
    int64_t Start = O.clip(C.Start), End = O.clip(C.End);
    // args hold only what is the same for every call of a function: speedscope tells
    // functions apart by name and args, so anything per call would split them. CPU time is
    // the format's own thread duration ("tdur"), which speedscope ignores; a call cut by the
    // window keeps its whole CPU time, no more than its duration in the window.
    std::string Tdur =
        C.CpuNs ? fmt::format(",\"tdur\":{:.3f}", micros(std::min(*C.CpuNs, End - Start))) : "";
    Out.print("{}{{\"ph\":\"X\",\"name\":{},\"cat\":\"{}\",\"pid\":{},\"tid\":{},\"ts\":{:.3f},"
              "\"dur\":{:.3f}{},\"args\":{{\"file\":{}}}}}",
              sep(), jsonString(S.Signature), C.Broken ? "broken" : "call", L.Pid, L.Tid,
              micros(Start - O.RunStart), micros(End - Start), Tdur, jsonString(S.location()));
    // An exception is an instant event where it was thrown (its innermost call ended).
    if (C.Broken && C.ExceptionId == C.Id && C.End <= O.To) // once, at the innermost call
      Out.print("{}{{\"ph\":\"i\",\"s\":\"t\",\"name\":\"exception\",\"cat\":\"broken\",\"pid\":{},"
                "\"tid\":{},\"ts\":{:.3f},\"args\":{{\"function\":{},\"error\":{}}}}}",
                sep(), L.Pid, L.Tid, micros(End - O.RunStart), jsonString(S.Signature),
                jsonString(exceptionText(Db, C.ExceptionId)));
    if (C.AllocBytes && !Counting) {
      Counting = true;
      counter(Start);
    }
    ChildBytes.push_back(0);
  }

  // The counter rises at each call's end by the bytes allocated in it and not yet counted
  // (those of its children shown: they ended before it). Calls not shown (shorter than
  // --min-duration) count in their caller, so at the end of each outermost call the counter
  // is the exact total of the thread's calls so far; inside one, a caller's own allocations
  // appear when it ends.
  void end(const Call &C, int64_t Time) override {
    int64_t Children = ChildBytes.back();
    ChildBytes.pop_back();
    if (!C.AllocBytes)
      return;
    int64_t Own = *C.AllocBytes - std::min(*C.AllocBytes, Children);
    if (!ChildBytes.empty())
      ChildBytes.back() += *C.AllocBytes;
    if (!Own)
      return; // the counter did not move: no event, the file stays small
    Bytes += Own;
    counter(Time);
  }

  void endLane(const Lane &) override {}

private:
  static double micros(int64_t Ns) { return static_cast<double>(Ns) / 1e3; }

  // Counter tracks belong to a process in this format: the tid in the name keeps the
  // threads apart.
  void counter(int64_t Time) {
    Out.print("{}{{\"ph\":\"C\",\"name\":{},\"pid\":{},\"ts\":{:.3f},\"args\":{{\"bytes\":{}}}}}",
              sep(), jsonString(fmt::format("allocated, tid {}", Current->Tid)), Current->Pid,
              micros(Time - O.RunStart), Bytes);
  }

  db::Database &Db;
  const Options &O;
  OutputFile &Out;
  std::map<int64_t, db::SiteName> Sites;
  std::map<int64_t, const Lane *> ByThread;
  const Lane *Current = nullptr;
  bool First = true;
  bool Counting = false;           ///< the lane's counter has started (at 0)
  int64_t Bytes = 0;               ///< the lane's bytes allocated so far
  std::vector<int64_t> ChildBytes; ///< per open call: its ended children's bytes, inclusive
};

} // namespace

void exportChrome(db::Database &Db, const Options &O, OutputFile &Out) {
  Out.print("{{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
  auto Lanes = lanes(Db, O);
  Writer W(Db, O, Out, Lanes);
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
          W.sep(), L.Pid, jsonString(L.Process), L.Pid, L.ProcessRank);
    Out.print("{}{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":{},\"tid\":{},\"args\":{{\"name\":"
              "{}}}}},\n{{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":{},\"tid\":{},"
              "\"args\":{{\"sort_index\":{}}}}}",
              W.sep(), L.Pid, L.Tid, jsonString(L.Thread), L.Pid, L.Tid, I);
  }
  walkSlices(Db, O, Lanes, W);
  Out.print("\n]}}\n");
}

} // namespace scopeprof::cli::exporter
