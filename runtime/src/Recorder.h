// The recorder's shared state: the per-process Recorder, per-thread logs and buffers, and the
// functions the runtime's parts call on each other. Not part of the public API.
//
// Where things are: Threads.cpp is the producer side (a thread's buffers, refill, thread exit);
// Writer.cpp the writer thread (queue, periodic flush, auto-throttle); Batch.cpp turns records
// into framed log batches; Sites.cpp the site registry and run-time rules; Clock.cpp the
// timestamp clock and the scope cost calibration; Process.cpp start-up, exit and fork;
// Regions.cpp the manual regions; Switches.cpp the context switches behind CPU time; Sampler.cpp the CPU-time samples; Modules.cpp the mappings their addresses lie in; Live.h the
// live aggregates the writer keeps per site; Control.cpp the control channel `scopeprof ctl`
// talks to. docs/runtime.md describes the behaviour.
#pragma once

#include "Config.h"
#include "Internal.h"
#include "Sampler.h"
#include "Switches.h"
#include "scopeprof/LogFormat.h"
#include "scopeprof/rules/Rules.h"
#include "scopeprof/scope.h"

#include <optional>
#include <pthread.h>
#include <string>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

namespace scopeprof::runtime {

namespace fmt = scopeprof::format;

constexpr uint64_t PeriodicFlushNs = 100'000'000;
/// While a thread's switch ring fills fast, the writer drains it this often.
constexpr uint64_t BusySwitchesFlushNs = 1'000'000;
/// The most of a throttled site's mean own time of a call its mark may cost
/// (Recorder::MarkWorthTicks), and the shortest and the longest whose marking the calibration
/// decides.
constexpr double MarkCostShare = 0.02;
constexpr uint64_t MinMarkedCallNs = 200, MaxMarkedCallNs = 2000;

struct Buffer {
  scopeprof_record *Data = nullptr;
  size_t Count = 0;   ///< valid records once Full
  size_t Flushed = 0; ///< records already written by periodic flushes
  enum { Free, Filling, Full } State = Free;
};

struct Summary {
  uint64_t Calls = 0;
  uint64_t TotalTicks = 0;
  bool Dirty = false;
};

struct ThreadLog {
  pid_t Tid = 0;
  int Fd = -1;
  scopeprof_thread *Owner = nullptr; ///< the thread's hot state; null once it exited
  Buffer Buffers[2];
  int Current = 0;
  uint64_t Dropped = 0;
  /// Opened by the thread before its log; drained by the writer with each batch.
  SwitchTracker Switches;
  /// Started by the thread before its log, stopped at its exit.
  CpuSampler Sampler;
  // Owned by the writer:
  std::vector<OffCpuInterval> OffCpuPending; ///< drained, not yet in the file
  std::vector<uint8_t> Described; ///< per site index: descriptor already in this file
  std::vector<uint8_t> ModulesDescribed; ///< per index in Recorder::Modules: likewise
  uint64_t NameCheckedNs = 0;
  std::unordered_map<uint32_t, Summary> Summaries;
  uint64_t DroppedWritten = 0;
  std::string LastName;
  /// Per depth: the time of the calls that ended directly under the call open one level up,
  /// which is not that call's own time (Live.h). Under the recorder's LiveM.
  std::vector<uint64_t> ChildTicks;
  /// What the thread's next call allocated (an ExtMemory unit before its record). A periodic
  /// flush may take the buffer between the two, so it is kept here until the record comes.
  bool Allocated = false;
  uint64_t Allocs = 0, AllocBytes = 0, AllocPeak = 0;
};

/// What the writer has written of one site since the process started: the live aggregates
/// `scopeprof ctl results` reads. A sample of a throttled site counts for the calls it stands for.
struct LiveSite {
  uint64_t Calls = 0;
  uint64_t TotalTicks = 0, SelfTicks = 0, MaxTicks = 0;
  double SumSquaresTicks = 0;      ///< for the standard deviation
  std::vector<uint64_t> Histogram; ///< calls per duration bucket (Live.h); empty before one
};

/// An executable mapping of the process: where a CPU sample's address is, for the loader to
/// find the function there (Modules.cpp). The file's time and size say whether it is still the
/// one that ran.
struct MappedModule {
  uint64_t Start = 0, End = 0, Offset = 0;
  uint64_t MtimeNs = 0, Size = 0;
  std::string Path;
  bool Gone = false; ///< unmapped since (dlclose): its range may hold another file now
};
/// How often the writer reads /proc/self/maps again while it writes CPU samples: when an address
/// lies in no known mapping ([vdso] and JIT code never will), and in any case (a library reached
/// only by unwinding, or mapped where another was unloaded).
constexpr uint64_t ModulesRescanUnknownNs = 100'000'000;
constexpr uint64_t ModulesRescanNs = 1'000'000'000;

/// What the writer has seen of one site, for the auto-throttle. Owned by the writer.
struct SiteLoad {
  uint64_t Calls = 0, Ticks = 0;
  /// The calls' own part: less their children written one by one (what the mark would share).
  uint64_t OwnTicks = 0;
  uint64_t NextCheck = 0; ///< judged at ThrottleCalls calls, then at every doubling
  uint64_t CutTicks = 0;  ///< throttled: calls starting at or after this are not recorded
  bool Exempt = false;    ///< named by a rule: never throttled
};

/// The one process-wide recorder. Allocated once and never destroyed, so it outlives every
/// static destructor that may still run instrumented code.
struct Recorder {
  Config Cfg;
  std::string RunDir; ///< empty: recording is off
  uint64_t RunNonce = 0; ///< random, shared by every process of the run
  pid_t Pid = 0, Ppid = 0;
  std::string ProcessName, ParentName, Exe, Cmdline;
  uint64_t CalibrationTicks = 0, CalibrationNs = 0, TicksPerSecond = 1'000'000'000;
  uint64_t StartWallNs = 0;
  uint64_t MinDurationTicks = 0;
  size_t BufferRecords = 0;

  pthread_mutex_t M = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t WriterCv = PTHREAD_COND_INITIALIZER;
  pthread_cond_t FreeCv = PTHREAD_COND_INITIALIZER;
  pthread_cond_t FlushCv = PTHREAD_COND_INITIALIZER;
  std::vector<ThreadLog *> Threads;
  std::vector<std::pair<ThreadLog *, int>> Queue;
  /// The copy flushRunningThreads() writes from. The recorder's, not the writer's: a fork child
  /// has no writer thread, and a buffer only its stack held would be lost there (LeakSanitizer).
  std::vector<scopeprof_record> FlushScratch;
  pthread_t Writer{};
  bool WriterRunning = false, StopWriter = false, ShuttingDown = false;
  uint64_t FlushRequested = 0, FlushDone = 0;
  uint64_t LastPeriodicNs = 0;
  uint64_t FlushPeriodNs = PeriodicFlushNs; ///< the writer's; shorter while a ring fills fast
  uint64_t CallsWritten = 0, BatchesWritten = 0;
  uint64_t LogBytes = 0;   ///< written by this process (atomic: several threads write batches)
  bool OverBudget = false; ///< past SCOPEPROF_MAX_LOG_SIZE: calls are only counted (atomic)
  std::string Frame; ///< the batch being built; one writer at a time, capacity kept
  /// The cost of one recorded call (Clock.cpp): inside its own interval, and as its parent
  /// pays it. The loader subtracts them (docs/runtime.md, "Overhead compensation").
  double ScopeInnerTicks = 0, ScopeOuterTicks = 0;
  /// What a sample of a throttled site costs inside its interval beyond an ordinary call.
  double SampledExtraTicks = 0;
  /// What a call of a sampled throttled site costs on average (recorded one time in 64): stored
  /// in the log (key 28), not taken out of anything.
  double ThrottledCallTicks = 0;
  uint64_t ThrottleTicks = 0;
  /// A throttled site whose mean call is at least this long is marked rather than off
  /// (SCOPEPROF_SITE_MARKED): there the mark costs at most MarkCostShare of a call.
  double MarkWorthTicks = 0;
  /// This runtime's malloc is the one the program calls (Memory.cpp).
  bool MemoryCountable = false;
  /// Allocations are counted (scopeprof_count_memory): SCOPEPROF_COUNTERS=memory, or a
  /// `counters memory` rule line, and MemoryCountable. Only ever switched on, under SitesM.
  bool CountsMemory = false;
  bool WarnedUncountable = false;
  /// A `counters cpu` rule line while SCOPEPROF_COUNTERS has no cpu: threads that get their log
  /// from then on track their context switches (atomic).
  bool RulesTrackCpu = false;
  /// SCOPEPROF_CPU_SAMPLES is on and the sampler's signal handler is installed.
  bool SamplesCpu = false;
  /// A site the auto-throttle cuts records no call from then on (Config::ThrottleThen).
  bool ThrottledOff = false;
  std::vector<SiteLoad> Loads; ///< by site index; the writer's
  /// A fork child's first batch writes the cuts it inherited (Loads' CutTicks): its log would
  /// otherwise hold calls that stop short with nothing to say why.
  bool RestateCuts = false;
  uint64_t LoadsRulesGeneration = 0;
  uint64_t SitesThrottled = 0;
  /// Dropped calls whose count no log holds (the disk stayed full): said at exit. Under M.
  uint64_t DroppedUnrecorded = 0;

  // Sites, under SitesM (never taken while holding M).
  pthread_mutex_t SitesM = PTHREAD_MUTEX_INITIALIZER;
  scopeprof_site *SiteList = nullptr;
  std::vector<scopeprof_site *> SitesByIndex;
  std::unordered_map<uint64_t, scopeprof_site *> RegionSites;
  bool GlobalEnabled = true;
  std::optional<rules::RuleSet> Rules;
  /// By site index: 0, or how the auto-throttle cut it (a ThrottleCut).
  std::vector<uint8_t> Throttled;
  uint64_t RulesGeneration = 0;   ///< bumped by every re-evaluation (atomic read by the writer)

  pthread_key_t ExitKey{};
  uint64_t StartMonoNs = 0;

  // Live aggregates, by site index, under LiveM. The writer holds LiveM while it writes a batch
  // (a reader sees whole batches), and takes SitesM inside it: LiveM comes first, before SitesM
  // and M, everywhere (the fork handlers too).
  pthread_mutex_t LiveM = PTHREAD_MUTEX_INITIALIZER;
  std::vector<LiveSite> Live;
  uint64_t LiveCalls = 0;
  /// The executable mappings seen so far, and when they were last read; under LiveM (batches
  /// are written under it).
  std::vector<MappedModule> Modules;
  uint64_t ModulesScannedNs = 0;

  // The control channel (Control.cpp): the listening socket and where it is bound, and the
  // connection being served (a fork child closes its copy).
  int ControlFd = -1;
  std::string ControlPath;
  int ControlClient = -1; ///< atomic
};

/// The recorder, created by the first use in the process (Process.cpp).
extern Recorder *Rec;
Recorder &recorder();
/// This thread's log; null before its first record and after it exited.
extern __thread ThreadLog *MyLog __attribute__((tls_model("initial-exec")));
extern __thread bool ThreadGone __attribute__((tls_model("initial-exec")));

struct Lock {
  explicit Lock(pthread_mutex_t &M) : M(M) { pthread_mutex_lock(&M); }
  ~Lock() { pthread_mutex_unlock(&M); }
  pthread_mutex_t &M;
};

/// Marks this thread as inside the recorder for a path that takes locks. False when it already
/// was: a signal handler interrupted the recorder on this thread, which may hold those locks,
/// so the caller must back off rather than deadlock.
class BusyGuard {
public:
  BusyGuard() : Entered(!scopeprof_tls.busy) {
    if (Entered)
      scopeprof_tls.busy = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
  }
  ~BusyGuard() {
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (Entered)
      scopeprof_tls.busy = 0;
  }
  explicit operator bool() const { return Entered; }
  BusyGuard(const BusyGuard &) = delete;
  BusyGuard &operator=(const BusyGuard &) = delete;

private:
  bool Entered;
};

/// True in a process the runtime did not set up: a raw clone() or a vfork child, where no
/// fork handler ran, the writer thread does not exist and another thread's locks may be held.
bool foreignProcess();

// Process.cpp
uint64_t monotonicNs();
pid_t currentTid();
std::string readComm(const std::string &Path);
void warnOnce(bool &Warned, const std::string &Message);
/// warnOnce under SCOPEPROF_VERBOSE only, for what every thread may hit at once (the flag is
/// taken atomically).
void warnOnceIfVerbose(bool Verbose, bool &Warned, const std::string &Message);

// Clock.cpp
void sampleAnchor(uint64_t &Ticks, uint64_t &Ns);
void calibrateClock(Recorder &R);
void measureScopeCost(Recorder &R);

// Sites.cpp
uint32_t siteState(Recorder &R, const scopeprof_site *S);
void reevaluateSites(Recorder &R);
void registerLocked(Recorder &R, scopeprof_site *S);
/// How the auto-throttle cut a site (Recorder::Throttled): with CPU samples, its calls are off,
/// or marked where their mean is long enough to pay for it (the samples that fell in them are
/// theirs even where the address cannot say); without, one call in 64 is recorded.
enum ThrottleCut : uint8_t { NotCut = 0, CutOff = 1, CutMarked = 2, CutSampled = 3 };
/// The state of a site the auto-throttle cut so.
uint32_t cutState(ThrottleCut Cut);
/// Cuts site \p Index for the auto-throttle (marked if \p Marked and CPU samples are taken);
/// false when a rule names it (exempt).
bool throttleSite(Recorder &R, uint32_t Index, bool Marked);
/// For the writer: after rules changed, whether site \p Index is recording again.
bool siteOn(Recorder &R, uint32_t Index);

// Batch.cpp
int openLogFile(const Recorder &R, const ThreadLog &L);
void writeBatch(Recorder &R, ThreadLog &L, const scopeprof_record *Units, size_t N);

// Modules.cpp, under R.LiveM
/// Whether \p Address lies in a mapping known and not gone.
bool inKnownModule(const Recorder &R, uint64_t Address);
/// Reads /proc/self/maps again if it is time to (see ModulesRescanNs).
void refreshModules(Recorder &R, bool AddressUnknown, uint64_t NowNs);

// Writer.cpp
void drainQueue(Recorder &R);
void flushRunningThreads(Recorder &R);
void ensureWriter(Recorder &R);

// Control.cpp
/// Opens this process's control socket and starts the thread that serves it.
void startControl(Recorder &R);
/// In a fork child: forgets the parent's channel and opens the child's own.
void restartControlInChild(Recorder &R);
/// Removes the socket at exit.
void stopControl(Recorder &R);

// Threads.cpp
scopeprof_record *discard();
scopeprof_record *attachThread(Recorder &R);
/// Starts tracking the calling thread's context switches when SCOPEPROF_COUNTERS asks for it.
void trackSwitches(const Recorder &R, ThreadLog &L);
/// In a fork child: the forking thread's tracker opened at its start but not adopted by a log yet
/// follows the parent's thread; it is dropped.
void dropPendingTracker();
/// pthread_create for the runtime's own threads: no context-switch tracker is opened for them
/// (ProcessHooks.cpp interposes pthread_create for the program's).
int createOwnThread(pthread_t *Thread, const pthread_attr_t *Attr, void *(*Fn)(void *),
                    void *Arg);
/// What the rules' `counters` lines switch on for the process (under SitesM).
void countersNamedByRules(Recorder &R);
/// After R.Rules changed at run time: the counters they name, then every site (under SitesM).
void rulesReplaced(Recorder &R);
void threadExit(void *Arg);

/// Starts sampling the calling thread's CPU time when SCOPEPROF_CPU_SAMPLES asks for it.
void sampleCpu(const Recorder &R, ThreadLog &L);

// Memory.cpp
/// Whether the program's malloc is the runtime's counting one: the shared runtime, first in
/// the symbol search order.
bool allocationsCounted();

} // namespace scopeprof::runtime
