// speedscope's own format (https://www.speedscope.app/file-format-schema.json): an evented
// profile per thread, frames shared by all of them.
#include "Export.h"

#include "scopeprof/Version.h"

#include <fmt/core.h>

#include <map>

namespace scopeprof::cli::exporter {
namespace {

class Writer : public SliceSink {
public:
  Writer(OutputFile &Out, const Options &O, std::map<int64_t, size_t> Frames)
      : Out(Out), O(O), Frames(std::move(Frames)) {}

  void beginLane(const Lane &L) override {
    Out.print("{}\n{{\"type\":\"evented\",\"name\":{},\"unit\":\"nanoseconds\",\"events\":[",
              FirstLane ? "" : ",",
              jsonString(fmt::format("{} (pid {}) / {} (tid {})", L.Process, L.Pid,
                                     L.Thread.empty() ? "thread" : L.Thread, L.Tid)));
    FirstLane = false;
    FirstEvent = true;
    Start = End = -1;
  }
  void begin(const Call &C, int64_t Time) override { event('O', C, Time); }
  void end(const Call &C, int64_t Time) override { event('C', C, Time); }
  void endLane(const Lane &) override {
    // Times count from the run's start, as in the other timelines.
    Out.print("],\"startValue\":{},\"endValue\":{}}}", Start < 0 ? 0 : Start - O.RunStart,
              End < 0 ? 0 : End - O.RunStart);
  }

private:
  void event(char Type, const Call &C, int64_t Time) {
    if (Start < 0)
      Start = Time;
    End = Time;
    Out.print("{}{{\"type\":\"{}\",\"frame\":{},\"at\":{}}}", FirstEvent ? "" : ",", Type,
              Frames[C.Site], Time - O.RunStart);
    FirstEvent = false;
  }

  OutputFile &Out;
  const Options &O;
  std::map<int64_t, size_t> Frames; // site -> index in shared.frames
  bool FirstLane = true, FirstEvent = true;
  int64_t Start = -1, End = -1;
};

} // namespace

void exportSpeedscope(db::Database &Db, const Options &O, OutputFile &Out) {
  auto Names = db::loadSiteNames(Db);
  std::map<int64_t, size_t> Frames;
  auto Run = Db.prepare("SELECT name FROM runs WHERE id=?1");
  Run.bind(1, O.Run).step();
  // The first profile is shown first: the main thread of the first process.
  Out.print("{{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
            "\"exporter\":\"scopeprof {}\",\"name\":{},\"activeProfileIndex\":0,"
            "\"shared\":{{\"frames\":[",
            SCOPEPROF_VERSION, jsonString(Run.text(0)));
  auto Used = Db.prepare("SELECT DISTINCT site_id FROM calls WHERE run_id=?1 ORDER BY 1");
  Used.bind(1, O.Run);
  while (Used.step()) {
    const db::SiteName &S = Names[Used.integer(0)];
    Out.print("{}\n{{\"name\":{},\"file\":{},\"line\":{}}}", Frames.empty() ? "" : ",",
              jsonString(S.Signature), jsonString(S.File), S.Line);
    Frames.emplace(Used.integer(0), Frames.size());
  }
  Out.print("]}},\"profiles\":[");
  Writer W(Out, O, std::move(Frames));
  walkSlices(Db, O, lanes(Db, O), W);
  Out.print("\n]}}\n");
}

} // namespace scopeprof::cli::exporter
