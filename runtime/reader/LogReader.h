// Streaming reader of scopeprof log files: validates frames, converts ticks to ns, reports damage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scopeprof::logreader {

struct FileHeader {
  uint32_t Version = 0;
  uint64_t Pid = 0, Ppid = 0, Tid = 0;
  std::string ProcessName, ParentName, Exe, ThreadName, Clock, RunId;
  std::vector<std::string> Args;
  uint64_t CalibrationTicks = 0, CalibrationNs = 0, TicksPerSecond = 0;
  uint64_t StartWallNs = 0, MinDurationNs = 0, MaxDepth = 0;
  /// The process's measured cost per recorded call (0 in logs of runtimes that did not
  /// measure it): inside the call's own interval, and as its parent's interval sees it.
  double ScopeInnerNs = 0, ScopeOuterNs = 0;
  uint64_t ThrottleCalls = 0, ThrottleNs = 0; ///< the auto-throttle's thresholds (0: off)
  /// Random, the same in every file of one run: tells apart two runs that got the same name
  /// (same second, same pid in two containers). 0 in logs of older runtimes.
  uint64_t RunNonce = 0;
  /// A sampled call (Call::Sampled) stands for this many calls of its site, and its scope cost
  /// ScopeInnerNs + SampledExtraNs inside its interval.
  uint64_t SamplePeriod = 0;
  double SampledExtraNs = 0;
  /// CLOCK_MONOTONIC ns since which the thread's context switches are in the log (offCpu());
  /// 0: not tracked, and calls have no CPU time.
  uint64_t SwitchesSinceNs = 0;
  /// The thread's allocations were counted: Call::Allocs and AllocBytes are measured (0 is 0).
  bool CountsMemory = false;
  /// Only the calls with Call::Counted had their allocations counted (rules' `counters` lines);
  /// false: every call of a CountsMemory thread was.
  bool CountedCalls = false;
  /// The thread's CPU time between two samples (Visitor::cpuSample), in ns; 0: not sampled.
  uint64_t CpuSampleNs = 0;
  /// The process's mean cost per call of a throttled site, inside its CPU samples (0: unknown).
  double ThrottledCallNs = 0;
};

struct Site {
  uint32_t Index = 0;
  uint64_t Id = 0;
  uint32_t Line = 0, Kinds = 0;
  std::string Signature, File;
};

struct Call {
  uint32_t SiteIndex = 0;
  uint32_t Depth = 0;
  bool Broken = false;
  bool Region = false;
  bool Sampled = false; ///< one sample of a throttled site: stands for FileHeader::SamplePeriod calls
  uint64_t StartNs = 0, EndNs = 0; ///< CLOCK_MONOTONIC, shared by every process on the machine
  uint64_t PausedNs = 0;           ///< regions only: time paused, excluded from the duration
  /// Allocations made while the call was open, its children's included (FileHeader::CountsMemory).
  uint64_t Allocs = 0, AllocBytes = 0;
  /// The call carried FlagCounted (FileHeader::CountedCalls).
  bool Counted = false;
  /// The peak of the thread's live bytes during the call above their value at its start
  /// (usable sizes); nullopt where the log predates it.
  std::optional<uint64_t> PeakBytes;
};

/// A profile case that ran in the process (docs/cases.md): its calls, on any of the process's
/// threads, are those that start in [StartNs, EndNs).
struct CaseRun {
  std::string Name;
  uint32_t Repetition = 0;
  uint32_t Flags = 0; ///< format::CaseFlags
  uint64_t StartNs = 0, EndNs = 0;
};

/// An executable mapping of the process (format::EntryModule): the file mapped at [Start, End)
/// from its byte Offset, with the file's modification time and size then.
struct Module {
  uint64_t Start = 0, End = 0, Offset = 0;
  uint64_t MtimeNs = 0, Size = 0;
  std::string Path;
};

/// A sample of a thread's CPU time (format::EntryCpuSamples, EntryCpuSamplesAt).
struct CpuSample {
  /// The site of the thread's innermost open call (of a site on or throttled), and of its
  /// innermost recorded call (format::NoSite: none).
  uint32_t SiteIndex = 0, RecordedIndex = 0;
  uint32_t Weight = 1; ///< the sampling periods it stands for
  uint64_t AtNs = 0;
  /// The instruction it interrupted, the stack and frame pointers then (0: not known; older
  /// logs), and the stack's bytes from the stack pointer up (may be empty).
  uint64_t Address = 0, StackPointer = 0, FramePointer = 0;
  std::string_view Stack;
};

/// Callbacks in file order. A site is always described before the first call that uses it;
/// exception() describes the exception behind the broken calls that follow it.
class Visitor {
public:
  virtual ~Visitor() = default;
  virtual void header(const FileHeader &) {}
  virtual void site(const Site &) {}
  virtual void call(const Call &) {}
  virtual void exception(const std::string & /*Type*/, const std::string & /*Message*/) {}
  virtual void threadName(const std::string &) {}
  /// Cumulative count and time of calls not written one by one (under the duration threshold
  /// or deeper than the depth limit); the last value per site is the total.
  virtual void summary(uint32_t /*SiteIndex*/, uint64_t /*Calls*/, uint64_t /*TotalNs*/) {}
  virtual void dropped(uint64_t /*Total*/) {}
  /// The auto-throttle cut the site after \p Calls calls (process-wide): of its calls that
  /// start at or after \p AtNs, only samples are in the log.
  virtual void throttled(uint32_t /*SiteIndex*/, uint64_t /*Calls*/, uint64_t /*AtNs*/) {}
  /// The thread was off the CPU from \p OutNs to \p InNs (format::OffCpuKind \p Kind; for
  /// OffCpuUnknown its state then is unknown). In time order, before the calls they overlap.
  virtual void offCpu(uint64_t /*OutNs*/, uint64_t /*InNs*/, uint8_t /*Kind*/) {}
  /// A sample of the thread's CPU time; its Stack is valid during the call only.
  virtual void cpuSample(const CpuSample &) {}
  /// A mapping that sample addresses after it may lie in.
  virtual void module(const Module &) {}
  /// A case ended; it is written by the thread that ended it, so a file may hold none.
  virtual void caseRun(const CaseRun &) {}
  /// Before the entries of each valid batch, which spans [\p Offset, \p EndOffset) in the file
  /// (a loader resuming a file knows from it which batches it has already stored).
  virtual void batch(uint64_t /*Offset*/, uint64_t /*EndOffset*/) {}
};

struct Problem {
  uint64_t Offset = 0;
  std::string Message;
  bool Torn = false; ///< an incomplete last batch (the writer was killed), not corruption
};

struct ReadResult {
  bool Recognized = false; ///< a scopeprof log of a supported version
  uint64_t Batches = 0;
  uint64_t ValidEnd = 0; ///< offset after the last complete, valid batch
  std::vector<Problem> Problems;
};

/// Reads \p Path from the start (clock conversion depends on every earlier anchor).
/// Memory is bounded by the largest batch, whatever the file size. After a damaged frame in
/// the middle of the file, reading resumes at the next frame whose header and checksum are
/// valid; the skipped bytes are reported.
ReadResult readLogFile(const std::string &Path, Visitor &V);

/// Every *.splog file under \p Path (a run directory, or the output directory holding runs),
/// sorted; \p Path may also be a single file. Symbolic links to directories are not
/// followed and a file reached by two paths is listed once. Sets \p Error when \p Path
/// cannot be read.
std::vector<std::string> findLogFiles(const std::string &Path, std::string &Error);

} // namespace scopeprof::logreader
