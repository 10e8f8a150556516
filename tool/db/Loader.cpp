// Streams log files into the database. Each file is read from its start (the clock conversion
// and the call tree depend on everything before), and only batches past the part already
// loaded are inserted, so reloading is idempotent and a growing run loads incrementally.
#include "Loader.h"

#include "CodeAddresses.h"
#include "LogReader.h"
#include "OffCpu.h"
#include "Schema.h"
#include "Stats.h"
#include "Traceback.h"

#include "scopeprof/LogFormat.h"
#include "scopeprof/rules/Rules.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <sys/stat.h>
#include <unordered_map>

namespace scopeprof::db {
namespace {

std::string baseName(const std::string &Path) { return Path.substr(Path.rfind('/') + 1); }
std::string dirName(const std::string &Path) {
  auto Slash = Path.rfind('/');
  return Slash == std::string::npos ? "." : Path.substr(0, Slash);
}

std::string utcNow() {
  std::time_t T = std::time(nullptr);
  std::tm Tm;
  gmtime_r(&T, &Tm);
  char Buf[32];
  std::strftime(Buf, sizeof(Buf), "%Y-%m-%dT%H:%M:%SZ", &Tm);
  return Buf;
}

std::string joinArgs(const std::vector<std::string> &Args) {
  std::string Out;
  for (const auto &A : Args)
    Out += (Out.empty() ? "" : " ") + A;
  return Out;
}

int64_t queryInt(Database &Db, std::string_view Sql) {
  auto S = Db.prepare(Sql);
  return S.step() ? S.integer(0) : 0;
}

/// Prepared statements and lookups shared by every file of one load.
class Store {
public:
  explicit Store(Database &Db)
      : Db(Db),
        InsertCall(Db, "INSERT INTO calls(id, run_id, pid, tid, thread_id, site_id, start_ns, "
                       "end_ns, duration_ns, self_ns, depth, parent_id, broken, exception_id, "
                       "raw_duration_ns, raw_self_ns, cpu_ns, self_cpu_ns, weight, allocs, "
                       "alloc_bytes, self_alloc_bytes, peak_bytes) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,"
                       "?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23)"),
        InsertCpuSample(Db, "INSERT INTO cpu_samples(run_id, thread_id, site_id, at_ns, weight, "
                            "recorded_site_id, address, by_address, in_scopeprof) "
                            "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
        UpsertException(Db, "INSERT INTO exceptions(id, run_id, thread_id, pid, tid, type, "
                            "message, traceback, frames) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) "
                            "ON CONFLICT(id) DO UPDATE SET traceback=excluded.traceback, "
                            "frames=excluded.frames"),
        FindSite(Db, "SELECT id FROM sites WHERE site_key=?1"),
        InsertSite(Db, "INSERT INTO sites(site_key, signature, file, line, kinds) "
                       "VALUES(?1,?2,?3,?4,?5)") {}

  Database &Db;
  Statement InsertCall, InsertCpuSample, UpsertException;
  CodeAddresses Code;

  /// A run is its logged name and its nonce: two runs that got the same name (the same second,
  /// pid 1 in two containers) stay apart, the second stored as NAME~2, and \p Note says so.
  int64_t run(const logreader::FileHeader &H, const std::string &Directory, std::string &Note) {
    auto Key = std::make_pair(H.RunId, H.RunNonce);
    auto It = Runs.find(Key);
    if (It != Runs.end())
      return It->second;
    auto Find = Db.prepare("SELECT id FROM runs WHERE logged_name=?1 AND nonce IS ?2");
    Find.bind(1, H.RunId);
    if (H.RunNonce)
      Find.bind(2, H.RunNonce);
    if (Find.step())
      return Runs[Key] = Find.integer(0);
    std::string Name = H.RunId;
    auto Taken = Db.prepare("SELECT 1 FROM runs WHERE name=?1");
    for (int Suffix = 2; Taken.bind(1, Name).step(); ++Suffix) {
      Taken.reset();
      Name = H.RunId + "~" + std::to_string(Suffix);
    }
    if (Name != H.RunId)
      Note = fmt::format("another run named '{}' is already in the database (a different run: "
                         "its logs carry another nonce); this one is stored as '{}'",
                         H.RunId, Name);
    auto Insert = Db.prepare("INSERT INTO runs(name, directory, start_wall_ns, loaded_at, "
                             "logged_name, nonce) VALUES(?1,?2,?3,?4,?5,?6)");
    Insert.bind(1, Name)
        .bind(2, Directory)
        .bind(3, H.StartWallNs)
        .bind(4, utcNow())
        .bind(5, H.RunId);
    if (H.RunNonce)
      Insert.bind(6, H.RunNonce);
    Insert.run();
    return Runs[Key] = Db.lastInsertId();
  }

  int64_t process(int64_t Run, const logreader::FileHeader &H) {
    auto Find =
        Db.prepare("SELECT id FROM processes WHERE run_id=?1 AND pid=?2 AND calibration_ns=?3");
    Find.bind(1, Run).bind(2, H.Pid).bind(3, H.CalibrationNs);
    if (Find.step())
      return Find.integer(0);
    Db.prepare("INSERT INTO processes(run_id, pid, ppid, name, parent_name, exe, command_line, "
               "start_wall_ns, min_duration_ns, max_depth, calibration_ns, scope_inner_ns, "
               "scope_outer_ns, throttle_calls, throttle_ns, throttled_call_ns) "
               "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)")
        .bind(1, Run)
        .bind(2, H.Pid)
        .bind(3, H.Ppid)
        .bind(4, H.ProcessName)
        .bind(5, H.ParentName)
        .bind(6, H.Exe)
        .bind(7, joinArgs(H.Args))
        .bind(8, H.StartWallNs)
        .bind(9, H.MinDurationNs)
        .bind(10, H.MaxDepth)
        .bind(11, H.CalibrationNs)
        .bind(12, H.ScopeInnerNs)
        .bind(13, H.ScopeOuterNs)
        .bind(14, H.ThrottleCalls)
        .bind(15, H.ThrottleNs)
        .bind(16, H.ThrottledCallNs)
        .run();
    return Db.lastInsertId();
  }

  int64_t thread(int64_t Process, int64_t Run, const logreader::FileHeader &H) {
    auto Find = Db.prepare("SELECT id FROM threads WHERE process_id=?1 AND tid=?2");
    Find.bind(1, Process).bind(2, H.Tid);
    if (Find.step())
      return Find.integer(0);
    auto Insert = Db.prepare("INSERT INTO threads(process_id, run_id, pid, tid, name, "
                             "switches_since_ns, counts_memory, cpu_sample_ns) "
                             "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
    Insert.bind(1, Process).bind(2, Run).bind(3, H.Pid).bind(4, H.Tid).bind(5, H.ThreadName);
    Insert.bind(7, H.CountsMemory ? 1 : 0);
    if (H.CpuSampleNs)
      Insert.bind(8, H.CpuSampleNs);
    if (H.SwitchesSinceNs)
      Insert.bind(6, H.SwitchesSinceNs);
    Insert.run();
    return Db.lastInsertId();
  }

  int64_t site(const logreader::Site &S) {
    auto It = Sites.find(S.Id);
    if (It != Sites.end())
      return It->second;
    std::string Key = fmt::format("{:016x}", S.Id);
    FindSite.bind(1, Key);
    int64_t Id;
    if (FindSite.step()) {
      Id = FindSite.integer(0);
    } else {
      InsertSite.bind(1, Key)
          .bind(2, S.Signature)
          .bind(3, S.File)
          .bind(4, S.Line)
          .bind(5, rules::kindNames(S.Kinds))
          .run();
      Id = Db.lastInsertId();
    }
    FindSite.reset();
    return Sites[S.Id] = Id;
  }

  /// The row of the site with stable id \p Id, if a file of this load described it.
  std::optional<int64_t> describedSite(uint64_t Id) const {
    auto It = Sites.find(Id);
    return It == Sites.end() ? std::nullopt : std::optional<int64_t>(It->second);
  }

  /// Forgets ids of rows a rolled-back transaction removed.
  void forgetRuns() {
    Runs.clear();
    Sites.clear();
  }

private:
  Statement FindSite, InsertSite;
  std::map<std::pair<std::string, uint64_t>, int64_t> Runs;
  std::unordered_map<uint64_t, int64_t> Sites;
};

/// One file: rebuilds the call tree of its thread and inserts the calls not yet loaded.
class FileLoader : public logreader::Visitor {
public:
  FileLoader(Store &S, std::string Path, LoadSummary &Summary)
      : S(S), Path(std::move(Path)), Summary(Summary) {}

  void header(const logreader::FileHeader &H) override {
    Header = H;
    std::string Note;
    Run = S.run(H, dirName(Path), Note);
    if (!Note.empty())
      Notes.push_back(Note);
    Process = S.process(Run, H);
    Thread = S.thread(Process, Run, H);
    startException("", "");
    ThreadName = H.ThreadName;
    OffCpu.start(H.SwitchesSinceNs);
    auto Find = S.Db.prepare("SELECT id, loaded_bytes FROM files WHERE run_id=?1 AND name=?2");
    Find.bind(1, Run).bind(2, baseName(Path));
    if (Find.step()) {
      FileId = Find.integer(0);
      LoadedBytes = static_cast<uint64_t>(Find.integer(1));
    } else {
      S.Db.prepare("INSERT INTO files(run_id, thread_id, name, path, loaded_bytes, batches, calls, "
                   "loaded_at) VALUES(?1,?2,?3,?4,0,0,0,?5)")
          .bind(1, Run)
          .bind(2, Thread)
          .bind(3, baseName(Path))
          .bind(4, Path)
          .bind(5, utcNow())
          .run();
      FileId = S.Db.lastInsertId();
    }
  }

  void site(const logreader::Site &Site) override {
    SiteIds[Site.Index] = S.site(Site);
    if (Site.Kinds == 0)
      ManualScopes.insert(Site.Index);
    Names[Site.Index] = Site.Signature + " (" + Site.File + ":" + std::to_string(Site.Line) + ")";
  }

  void batch(uint64_t Offset, uint64_t EndOffset) override {
    Loaded = EndOffset <= LoadedBytes;
    Batch = Offset;
  }

  void exception(const std::string &Type, const std::string &Message) override {
    startException(Type, Message);
  }

  /// Broken calls that follow belong to a new exception.
  void startException(const std::string &Type, const std::string &Message) {
    storeException();
    Exception = Traceback();
    Exception.Run = Run;
    Exception.Thread = Thread;
    Exception.Pid = Header.Pid;
    Exception.Tid = Header.Tid;
    Exception.Type = Type;
    Exception.Message = Message;
  }

  void threadName(const std::string &Name) override { ThreadName = Name; }
  void summary(uint32_t Index, uint64_t Calls, uint64_t TotalNs) override {
    Counted[Index] = {Calls, TotalNs};
  }
  void dropped(uint64_t Total) override { Dropped = Total; }
  void throttled(uint32_t Index, uint64_t Calls, uint64_t AtNs) override {
    Throttled[Index] = {Calls, AtNs};
  }

  void caseRun(const logreader::CaseRun &C) override {
    if (Loaded)
      return;
    S.Db.prepare("INSERT INTO cases(run_id, process_id, pid, name, repetition, warmup, failed, "
                 "start_ns, end_ns) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)")
        .bind(1, Run)
        .bind(2, Process)
        .bind(3, Header.Pid)
        .bind(4, C.Name)
        .bind(5, C.Repetition)
        .bind(6, C.Flags & format::CaseWarmup ? 1 : 0)
        .bind(7, C.Flags & format::CaseFailed ? 1 : 0)
        .bind(8, C.StartNs)
        .bind(9, C.EndNs)
        .run();
  }

  void module(const logreader::Module &M) override { Samples.addModule(M); }

  /// A sample is charged to the instrumented function at its address, inline frames included,
  /// or up its stack (SampleAttribution): the marks name the innermost open call, but a
  /// callee's prologue and its constructor's member initializers run before its scope opens,
  /// its epilogue after it closed. A sample in scopeprof's own code is the measurement's
  /// (docs/runtime.md, "CPU samples"). Inside a manual scope (kinds 0) the marks stay: its
  /// code is its function's.
  void cpuSample(const logreader::CpuSample &Sample) override {
    if (Loaded)
      return;
    // The site of the innermost marked call, if any (the writer describes a site before its
    // first sample): outside every recorded call, only the address can say whose it is.
    auto Site = SiteIds.find(Sample.SiteIndex);
    auto Recorded = SiteIds.find(Sample.RecordedIndex);
    std::optional<int64_t> Charged;
    if (Site != SiteIds.end())
      Charged = Site->second;
    bool ByAddress = false, Measurement = false;
    if (Sample.Address) {
      CodeAt Code = Samples.charge(Sample, Notes);
      Measurement = Code.What == CodeAt::Measurement;
      if (Code.What == CodeAt::Function && !ManualScopes.count(Sample.SiteIndex))
        if (auto Found = S.describedSite(Code.SiteId)) {
          ByAddress = *Found != Charged;
          Charged = *Found;
        }
    }
    if (!Charged)
      return; // in code no instrumented function owns, under no recorded call
    S.InsertCpuSample.bind(1, Run).bind(2, Thread).bind(3, *Charged).bind(4, Sample.AtNs);
    S.InsertCpuSample.bind(5, Sample.Weight);
    if (Recorded != SiteIds.end())
      S.InsertCpuSample.bind(6, Recorded->second);
    else
      S.InsertCpuSample.bindNull(6);
    if (Sample.Address)
      S.InsertCpuSample.bind(7, static_cast<int64_t>(Sample.Address));
    else
      S.InsertCpuSample.bindNull(7);
    S.InsertCpuSample.bind(8, ByAddress ? 1 : 0).bind(9, Measurement ? 1 : 0).run();
  }

  void offCpu(uint64_t OutNs, uint64_t InNs, uint8_t Kind) override {
    std::string Problem;
    OffCpu.add(OutNs, InNs, Kind, Problem);
    if (!Problem.empty() && !OffCpuDisordered) {
      OffCpuDisordered = true;
      Problems.push_back(Problem);
    }
  }

  void call(const logreader::Call &C) override {
    auto Site = SiteIds.find(C.SiteIndex);
    if (Site == SiteIds.end()) {
      if (UndescribedSites.insert(C.SiteIndex).second)
        Problems.push_back(fmt::format("a call of site index {}, which the file never describes; "
                                       "its calls were skipped",
                                       C.SiteIndex));
      return;
    }
    uint64_t Elapsed = C.EndNs >= C.StartNs ? C.EndNs - C.StartNs : 0;
    uint64_t Duration = Elapsed - std::min(Elapsed, C.PausedNs);
    if (Stack.size() < C.Depth + 2)
      Stack.resize(C.Depth + 2);

    // Calls arrive as they end, children before their parent. The open call at each depth
    // collects its finished children's time and count and the id they were told their parent
    // has.
    OpenCall &Me = Stack[C.Depth];
    int64_t Id;
    uint64_t Self = Duration, Children = 0, Descendants = 0, ChildAllocBytes = 0;
    // Off the CPU: inside the call, and inside its direct children (the rest is in its self
    // part). A region's pauses are somewhere inside it, so its own CPU time is not known, but
    // its parent's is: the parent's self part excludes the region's whole interval.
    std::optional<uint64_t> ElapsedOffNs = OffCpu.offCpuWithin(C.StartNs, C.EndNs);
    std::optional<uint64_t> OffNs = C.PausedNs ? std::nullopt : ElapsedOffNs;
    std::optional<uint64_t> ChildrenOffNs = 0;
    // Ticks become ns per batch, around each batch's anchor: a child and its parent written in
    // different batches can disagree by a few hundred ns, so "starts inside" allows that much
    // then. In one batch it is exact: with the parent not recorded (counted, or left out by the
    // throttle), a sibling of it that starts right after the child must not adopt it.
    constexpr uint64_t ClockSlackNs = 1000;
    constexpr uint64_t OffCpuForgetSlackNs = 1'000'000;
    uint64_t SlackNs = Me.FirstChildBatch == Batch ? 0 : ClockSlackNs;
    if (Me.ReservedId && Me.FirstChildStart + SlackNs >= C.StartNs) {
      Id = Me.ReservedId;
      Self -= std::min(Self, Me.ChildNs);
      Children = Me.Children;
      Descendants = Me.Descendants;
      ChildAllocBytes = Me.ChildAllocBytes;
      ChildrenOffNs = Me.ChildOffNs;
    } else {
      Id = nextId(); // a reservation that does not fit belonged to a call never recorded
    }
    Me = OpenCall();
    Stack[C.Depth + 1] = OpenCall();
    // Overhead compensation: every recorded call inside this one grew its interval by the
    // outer cost, and its own scope added the inner part (docs/runtime.md).
    auto Compensated = [](uint64_t Measured, double Cost) {
      return Cost >= static_cast<double>(Measured) ? 0 : Measured - static_cast<uint64_t>(Cost);
    };
    uint64_t Weight = C.Sampled && Header.SamplePeriod ? Header.SamplePeriod : 1;
    // A sample pays a mispredicted branch inside its interval that an ordinary call does not;
    // uncorrected, it would be counted 64 times in the sampled function and taken 63 times from
    // its caller.
    double InnerNs = Header.ScopeInnerNs + (Weight > 1 ? Header.SampledExtraNs : 0);
    uint64_t NetDuration = Compensated(
        Duration, InnerNs + static_cast<double>(Descendants) * Header.ScopeOuterNs);
    uint64_t NetSelf = Compensated(Self, InnerNs + static_cast<double>(Children) *
                                                       (Header.ScopeOuterNs - Header.ScopeInnerNs));
    // CPU time: the compensated times less the time off the CPU, never below zero.
    std::optional<uint64_t> CpuNs, SelfCpuNs;
    if (OffNs) {
      CpuNs = NetDuration - std::min(NetDuration, *OffNs);
      if (ChildrenOffNs) {
        uint64_t SelfOffNs = *OffNs - std::min(*OffNs, *ChildrenOffNs);
        SelfCpuNs = NetSelf - std::min(NetSelf, SelfOffNs);
      }
    }
    int64_t Parent = 0;
    if (C.Depth > 0) {
      OpenCall &Up = Stack[C.Depth - 1];
      if (!Up.ReservedId)
        Up.ReservedId = nextId();
      Up.ChildNs += Elapsed;
      if (C.StartNs < Up.FirstChildStart) {
        Up.FirstChildStart = C.StartNs;
        Up.FirstChildBatch = Batch;
      }
      ++Up.Children;
      Up.Descendants += 1 + Descendants;
      Up.ChildAllocBytes += C.AllocBytes;
      if (ElapsedOffNs && Up.ChildOffNs)
        *Up.ChildOffNs += *ElapsedOffNs;
      else
        Up.ChildOffNs.reset();
      Parent = Up.ReservedId;
    }
    // A thread's outermost calls follow each other: every call after this one starts after
    // it ends (give or take the clock conversion between batches).
    if (C.Depth == 0)
      OffCpu.forgetBefore(C.EndNs - std::min<uint64_t>(C.EndNs, OffCpuForgetSlackNs));
    if (C.Broken) {
      // An exception is stored once, under the id of the innermost call it broke; every
      // broken call points at it.
      if (!ExceptionId)
        ExceptionId = Id;
      Exception.addFrame(Names[C.SiteIndex]);
    }
    if (Loaded)
      return;

    auto &Insert = S.InsertCall;
    Insert.bind(1, Id)
        .bind(2, Run)
        .bind(3, Header.Pid)
        .bind(4, Header.Tid)
        .bind(5, Thread)
        .bind(6, Site->second)
        .bind(7, C.StartNs)
        .bind(8, C.EndNs)
        .bind(9, NetDuration)
        .bind(10, NetSelf)
        .bind(11, C.Depth)
        .bind(15, Duration)
        .bind(16, Self)
        .bind(19, Weight);
    if (Parent)
      Insert.bind(12, Parent);
    if (CpuNs)
      Insert.bind(17, *CpuNs);
    if (SelfCpuNs)
      Insert.bind(18, *SelfCpuNs);
    // A region's allocations are not counted (its pauses would have to be).
    // Newer logs say per call whether it was counted (rules' `counters` lines).
    bool Counted = Header.CountedCalls ? C.Counted : Header.CountsMemory;
    if (Counted && !C.Region) {
      Insert.bind(20, C.Allocs)
          .bind(21, C.AllocBytes)
          .bind(22, C.AllocBytes - std::min(C.AllocBytes, ChildAllocBytes));
      if (Header.CountedCalls)
        Insert.bind(23, C.PeakBytes.value_or(0));
      // Counting switched on after the thread's log began (rules sent by `scopeprof ctl`).
      CountedAny = true;
    }
    Insert.bind(13, C.Broken ? 1 : 0);
    if (C.Broken) {
      Insert.bind(14, ExceptionId);
      ExceptionChanged = true;
    }
    Insert.run();
    ++NewCalls;
    FirstStart = std::min(FirstStart, C.StartNs);
    LastEnd = std::max(LastEnd, C.EndNs);
    if ((++Summary.Calls & 0xfffff) == 0 && OnCalls)
      OnCalls();
  }

  /// Stores what the file says as a whole; \p R is what the reader found.
  void finish(const logreader::ReadResult &R) {
    if (!FileId)
      return;
    if (CountedAny && !Header.CountsMemory && Thread)
      S.Db.prepare("UPDATE threads SET counts_memory=1 WHERE id=?1").bind(1, Thread).run();
    storeException();
    // Per-site figures of the file, each row keyed by its owner (a thread or a process).
    auto storePerSite = [&](const char *Sql, int64_t Owner,
                            const std::map<uint32_t, std::pair<uint64_t, uint64_t>> &Values) {
      auto Insert = S.Db.prepare(Sql);
      for (const auto &[Index, Value] : Values)
        if (auto Site = SiteIds.find(Index); Site != SiteIds.end())
          Insert.bind(1, Owner)
              .bind(2, Run)
              .bind(3, Site->second)
              .bind(4, Value.first)
              .bind(5, Value.second)
              .run();
    };
    storePerSite("INSERT INTO counted VALUES(?1,?2,?3,?4,?5) ON CONFLICT(thread_id, site_id) "
                 "DO UPDATE SET calls=excluded.calls, total_ns=excluded.total_ns",
                 Thread, Counted);
    // Without a sample period, a cut site's later calls went unrecorded (SCOPEPROF_THROTTLE's off).
    storePerSite(Header.SamplePeriod ? "INSERT OR IGNORE INTO throttled VALUES(?1,?2,?3,?4,?5,1)"
                                     : "INSERT OR IGNORE INTO throttled VALUES(?1,?2,?3,?4,?5,0)",
                 Process, Throttled);
    S.Db.prepare("UPDATE threads SET name=?2, dropped_calls=?3 WHERE id=?1")
        .bind(1, Thread)
        .bind(2, ThreadName)
        .bind(3, Dropped)
        .run();
    if (NewCalls)
      S.Db.prepare("UPDATE processes SET start_ns=min(coalesce(start_ns, ?2), ?2), "
                   "end_ns=max(coalesce(end_ns, ?3), ?3) WHERE id=?1")
          .bind(1, Process)
          .bind(2, FirstStart)
          .bind(3, LastEnd)
          .run();
    std::string ProblemText;
    for (const auto &P : R.Problems)
      ProblemText += fmt::format("offset {}: {}\n", P.Offset, P.Message);
    for (const auto &P : Problems)
      ProblemText += P + "\n";
    auto Update = S.Db.prepare("UPDATE files SET loaded_bytes=max(loaded_bytes, ?2), batches=?3, "
                               "calls=calls+?4, problems=?5, path=?6, loaded_at=?7 WHERE id=?1");
    Update.bind(1, FileId).bind(2, R.ValidEnd).bind(3, R.Batches).bind(4, NewCalls);
    if (!ProblemText.empty())
      Update.bind(5, ProblemText);
    Update.bind(6, Path).bind(7, utcNow()).run();
  }

  int64_t run() const { return Run; }
  uint64_t newCalls() const { return NewCalls; }
  const std::vector<std::string> &problems() const { return Problems; }
  const std::vector<std::string> &notes() const { return Notes; }
  std::function<void()> OnCalls;

private:
  struct OpenCall {
    int64_t ReservedId = 0;
    uint64_t ChildNs = 0;
    uint64_t Children = 0, Descendants = 0;
    uint64_t FirstChildStart = UINT64_MAX;
    uint64_t ChildAllocBytes = 0; ///< the recorded children's allocations, inclusive
    uint64_t FirstChildBatch = 0; ///< the offset of the batch that held it
    std::optional<uint64_t> ChildOffNs = 0; ///< off-CPU time inside the children; unknown: nullopt
  };
  /// Writes the current exception's row if this load added calls it broke.
  void storeException() {
    if (ExceptionChanged)
      Exception.store(S.UpsertException, ExceptionId);
    ExceptionChanged = false;
    ExceptionId = 0;
  }

  /// Ids depend only on the file's content, so a reload assigns the same ones.
  int64_t nextId() { return (FileId << 32) + static_cast<int64_t>(++Sequence); }

  Store &S;
  std::string Path;
  LoadSummary &Summary;
  logreader::FileHeader Header;
  int64_t Run = 0, Process = 0, Thread = 0, FileId = 0;
  bool CountedAny = false; ///< a call of this file had its allocations counted
  uint64_t LoadedBytes = 0, Sequence = 0, NewCalls = 0, Dropped = 0;
  uint64_t FirstStart = UINT64_MAX, LastEnd = 0;
  bool Loaded = false;
  std::unordered_map<uint32_t, int64_t> SiteIds; ///< the file's site index -> sites.id
  std::set<uint32_t> ManualScopes;               ///< site indexes of SCOPEPROF_SCOPE blocks
  SampleAttribution Samples{S.Code};
  std::unordered_map<uint32_t, std::string> Names;
  std::vector<OpenCall> Stack;
  uint64_t Batch = 0; ///< the offset of the batch being read
  std::string ThreadName;
  Traceback Exception;
  int64_t ExceptionId = 0;
  bool ExceptionChanged = false;
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> Counted;
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> Throttled; ///< calls seen, cut time
  std::set<uint32_t> UndescribedSites;
  OffCpuTimeline OffCpu;
  bool OffCpuDisordered = false;
  std::vector<std::string> Problems, Notes;
};

/// Gives each call of \p Run without a case the case its process had open when the call
/// started. After the run's files are in: a case is written by the thread that ended it, and
/// its calls may be in any file of the process. Cases of a process never overlap, so the one
/// that started last before the call is the only candidate (one index lookup per call).
void assignCases(Database &Db, int64_t Run) {
  auto Any = Db.prepare("SELECT 1 FROM cases WHERE run_id=?1 LIMIT 1");
  if (!Any.bind(1, Run).step())
    return;
  Db.prepare("UPDATE calls SET case_id = (SELECT CASE WHEN k.end_ns > calls.start_ns THEN k.id "
             "END FROM cases k WHERE k.process_id = (SELECT process_id FROM threads WHERE "
             "id = calls.thread_id) AND k.start_ns <= calls.start_ns ORDER BY k.start_ns DESC "
             "LIMIT 1) WHERE run_id=?1 AND case_id IS NULL")
      .bind(1, Run)
      .run();
  Db.prepare("UPDATE cpu_samples SET case_id = (SELECT CASE WHEN k.end_ns > cpu_samples.at_ns "
             "THEN k.id END FROM cases k WHERE k.process_id = (SELECT process_id FROM threads "
             "WHERE id = cpu_samples.thread_id) AND k.start_ns <= cpu_samples.at_ns ORDER BY "
             "k.start_ns DESC LIMIT 1) WHERE run_id=?1 AND case_id IS NULL")
      .bind(1, Run)
      .run();
}

/// Log files grouped by run directory (one transaction each), in a stable order.
std::map<std::string, std::vector<std::string>> findRuns(const std::vector<std::string> &Inputs,
                                                         LoadSummary &Summary) {
  std::map<std::string, std::vector<std::string>> Runs;
  for (const auto &Input : Inputs) {
    std::string Error;
    auto Files = logreader::findLogFiles(Input, Error);
    if (!Error.empty())
      Summary.Problems.push_back({Input, 0, Error});
    else if (Files.empty())
      Summary.Problems.push_back({Input, 0, "no scopeprof log files (*.splog) found"});
    for (auto &F : Files)
      Runs[dirName(F)].push_back(std::move(F));
  }
  for (auto &[Dir, Files] : Runs) {
    std::sort(Files.begin(), Files.end());
    Files.erase(std::unique(Files.begin(), Files.end()), Files.end());
  }
  return Runs;
}

/// A file loaded whole from this very path. Another directory of the same name may hold
/// another run, so the name alone does not say.
bool unchanged(Database &Db, const std::string &Path) {
  struct stat St;
  if (stat(Path.c_str(), &St) != 0)
    return false;
  auto Find = Db.prepare("SELECT loaded_bytes FROM files WHERE path=?1 AND problems IS NULL");
  Find.bind(1, Path);
  while (Find.step())
    if (Find.integer(0) == static_cast<int64_t>(St.st_size))
      return true;
  return false;
}

} // namespace

LoadSummary loadRuns(Database &Db, const std::vector<std::string> &Inputs,
                     const LoadOptions &Options) {
  LoadSummary Summary;
  auto Runs = findRuns(Inputs, Summary);
  LoadProgress Progress;
  for (const auto &[Dir, Files] : Runs)
    Progress.FilesTotal += Files.size();
  auto report = [&] {
    Progress.Calls = Summary.Calls;
    if (Options.OnProgress)
      Options.OnProgress(Progress);
  };

  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point Since) {
    return std::chrono::duration<double>(Clock::now() - Since).count();
  };
  auto Phase = Clock::now();
  // Building indexes once after a bulk load is much faster than updating them per row.
  bool Bulk = queryInt(Db, "SELECT count(*) FROM (SELECT 1 FROM calls LIMIT 1)") == 0;
  if (Bulk)
    dropIndexes(Db);
  Store S(Db);
  std::set<int64_t> Touched, NeedStats;
  for (const auto &[Dir, Files] : Runs) {
    Transaction T(Db);
    std::set<int64_t> RunIds;
    size_t ProblemsBefore = Summary.Problems.size(), NotesBefore = Summary.Notes.size();
    uint64_t CallsBefore = Summary.Calls;
    size_t FilesBefore = Summary.Files, UnchangedBefore = Summary.UnchangedFiles;
    for (const auto &File : Files) {
      if (unchanged(Db, File)) {
        ++Summary.UnchangedFiles;
      } else {
        FileLoader L(S, File, Summary);
        L.OnCalls = report;
        auto R = logreader::readLogFile(File, L);
        L.finish(R);
        for (const auto &P : R.Problems)
          Summary.Problems.push_back({File, P.Offset, P.Message});
        for (const auto &P : L.problems())
          Summary.Problems.push_back({File, 0, P});
        for (const auto &N : L.notes())
          Summary.Notes.push_back({File, 0, N});
        if (R.Recognized) {
          ++Summary.Files;
          RunIds.insert(L.run());
        }
      }
      ++Progress.FilesDone;
      report();
    }
    if (Options.Strict && Summary.Problems.size() > ProblemsBefore) {
      S.forgetRuns();
      Summary.Notes.resize(NotesBefore);
      ++Summary.RejectedRuns;
      Summary.Calls = CallsBefore;
      Summary.Files = FilesBefore;
      Summary.UnchangedFiles = UnchangedBefore;
      continue; // T rolls back
    }
    for (int64_t Run : RunIds)
      assignCases(Db, Run);
    for (int64_t Run : RunIds)
      if (Bulk)
        NeedStats.insert(Run);
      else
        storeSiteStats(Db, Run);
    T.commit();
    Touched.insert(RunIds.begin(), RunIds.end());
  }
  Summary.InsertSeconds = seconds(Phase);
  Phase = Clock::now();
  createIndexes(Db);
  Summary.IndexSeconds = seconds(Phase);
  Phase = Clock::now();
  // Runs loaded in bulk, and any whose statistics an interrupted load left out.
  auto Missing = Db.prepare("SELECT id FROM runs WHERE id NOT IN (SELECT run_id FROM site_stats)");
  while (Missing.step())
    NeedStats.insert(Missing.integer(0));
  if (!NeedStats.empty()) {
    Transaction T(Db);
    for (int64_t Run : NeedStats)
      storeSiteStats(Db, Run);
    T.commit();
  }
  Summary.StatsSeconds = seconds(Phase);
  Summary.Runs = Touched.size();
  return Summary;
}

} // namespace scopeprof::db
