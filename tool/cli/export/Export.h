// What every export format shares: the options, the threads in display order, the calls
// of the run selected by the options, and the formats themselves (one file each).
#pragma once

#include "Output.h"

#include "Sqlite.h"
#include "Stats.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace scopeprof::cli::exporter {

struct Options {
  int64_t Run = 0;
  db::CallFilter Filter;
  /// The window, absolute (CLOCK_MONOTONIC ns): calls that overlap it are kept, clipped to it.
  int64_t From = 0, To = INT64_MAX;
  uint64_t MinDuration = 0;
  /// Folded stacks: a process and a thread frame at the root of every stack.
  bool ThreadFrames = false;
  int64_t RunStart = 0; ///< the run's first call: timelines count from it

  bool windowed() const { return From > 0 || To < INT64_MAX; }
  int64_t clip(int64_t T) const { return T < From ? From : T > To ? To : T; }
};

/// A thread as the timelines show it: a lane of its process.
struct Lane {
  int64_t ThreadId = 0, ProcessId = 0, Pid = 0, Tid = 0;
  std::string Thread, Process;
  int64_t ProcessRank = 0; ///< of its process in process-tree order
};

/// The run's threads (within --pid/--tid) in display order: processes in process-tree order
/// (a parent, then the children it forked, by start), each one's main thread first, then
/// the others by tid.
std::vector<Lane> lanes(db::Database &Db, const Options &O);

/// "CASE c.thread_id WHEN ... END": the lane's position, to have SQL sort calls by lane.
std::string laneOrder(const std::vector<Lane> &Lanes);

/// One recorded call as the exports read it.
struct Call {
  int64_t Id, ThreadId, Site, Start, End, Duration, Self, Depth, ExceptionId;
  bool Broken;
  /// The counters (docs/schema.md); empty where the run did not measure them for this call.
  std::optional<int64_t> CpuNs, Allocs, AllocBytes, SelfAllocBytes;
};

/// Calls in the options' window and of at least their minimum duration, lane by lane in
/// \p Lanes order, each lane's in start order, outermost first: a stack of open calls
/// rebuilds the tree. Sorting is SQLite's (spilling to disk), so memory does not grow with
/// the run.
class CallStream {
public:
  CallStream(db::Database &Db, const Options &O, const std::vector<Lane> &Lanes);
  /// The next call, false at the end.
  bool next(Call &C);

private:
  db::Statement Calls;
};

/// Receives a timeline: lane by lane, properly nested begin and end events whose times
/// never go back (a child that ends after its parent, the two ends having come from
/// different batches, docs/schema.md, ends with it), clipped to the window.
class SliceSink {
public:
  virtual ~SliceSink() = default;
  virtual void beginLane(const Lane &L) = 0;
  virtual void begin(const Call &C, int64_t Time) = 0;
  virtual void end(const Call &C, int64_t Time) = 0;
  virtual void endLane(const Lane &L) = 0;
};
void walkSlices(db::Database &Db, const Options &O, const std::vector<Lane> &Lanes, SliceSink &S);

/// Receives every call once it has ended (children before their parent), with the sites of
/// its stack (outermost first, its own last) and its time in the window: a call cut by the
/// window loses the part outside it; a call shorter than the minimum duration is not
/// reported, and neither is anything under it: its time counts as its caller's own time,
/// as SCOPEPROF_MIN_DURATION does when recording.
class StackSink {
public:
  virtual ~StackSink() = default;
  virtual void beginLane(const Lane &) {}
  virtual void call(const Lane &L, const std::vector<int64_t> &Sites, int64_t TotalNs,
                    int64_t SelfNs) = 0;
  /// The time of a short call that has no caller to take it (the outermost call of a thread):
  /// the thread's own, where the sink shows threads.
  virtual void threadOwn(const Lane &, int64_t) {}
};
void walkStacks(db::Database &Db, const Options &O, const std::vector<Lane> &Lanes, StackSink &S);

/// "type: message" of an exception.
std::string exceptionText(db::Database &Db, int64_t ExceptionId);

void exportChrome(db::Database &Db, const Options &O, OutputFile &Out);
void exportPerfetto(db::Database &Db, const Options &O, OutputFile &Out);
void exportSpeedscope(db::Database &Db, const Options &O, OutputFile &Out);
void exportFolded(db::Database &Db, const Options &O, OutputFile &Out);
void exportCallTree(db::Database &Db, const Options &O, OutputFile &Out);
void exportDot(db::Database &Db, const Options &O, OutputFile &Out);
void exportCsv(db::Database &Db, const Options &O, OutputFile &Out);

} // namespace scopeprof::cli::exporter
