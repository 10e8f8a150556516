// The process: start-up (configuration, identity, run directory), the final flush at exit, and
// fork (the child continues in new files with its own pid).
#include "Recorder.h"
#include "scopeprof/RunDirectory.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int scopeprof_count_memory = 0;

namespace scopeprof::runtime {

Recorder *Rec = nullptr;

bool foreignProcess() { return Rec && getpid() != Rec->Pid; }

uint64_t monotonicNs() {
  timespec T;
  clock_gettime(CLOCK_MONOTONIC, &T);
  return static_cast<uint64_t>(T.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(T.tv_nsec);
}

pid_t currentTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

/// The static runtime has no counting allocator (Memory.cpp, shared runtime only, overrides).
__attribute__((weak)) bool allocationsCounted() { return false; }

namespace {

pthread_once_t InitOnce = PTHREAD_ONCE_INIT;

std::string readSmallFile(const std::string &Path) {
  std::string Out;
  int Fd = open(Path.c_str(), O_RDONLY | O_CLOEXEC);
  if (Fd < 0)
    return Out;
  char Buf[4096];
  for (ssize_t N; (N = read(Fd, Buf, sizeof(Buf))) > 0;)
    Out.append(Buf, static_cast<size_t>(N));
  close(Fd);
  return Out;
}

} // namespace

std::string readComm(const std::string &Path) {
  std::string S = readSmallFile(Path);
  while (!S.empty() && S.back() == '\n')
    S.pop_back();
  return S;
}

/// A process's program name: the base name of its argv[0] (comm is cut at 15 characters:
/// "autocompact_tes"), else comm.
std::string processName(const std::string &Pid) {
  std::string Cmdline = readSmallFile("/proc/" + Pid + "/cmdline");
  std::string Arg0 = Cmdline.substr(0, Cmdline.find('\0'));
  std::string Base = Arg0.substr(Arg0.rfind('/') + 1);
  return Base.empty() ? readComm("/proc/" + Pid + "/comm") : Base;
}

void warnOnce(bool &Warned, const std::string &Message) {
  if (!Warned)
    std::fprintf(stderr, "scopeprof: warning: %s\n", Message.c_str());
  Warned = true;
}

void warnOnceIfVerbose(bool Verbose, bool &Warned, const std::string &Message) {
  if (Verbose && !__atomic_exchange_n(&Warned, true, __ATOMIC_RELAXED))
    std::fprintf(stderr, "scopeprof: warning: %s\n", Message.c_str());
}

namespace {

std::string makeRunDir(const Config &C, pid_t Pid) {
  static bool Warned = false;
  if (!C.RunDir.empty()) {
    // Joining a run another process of ours created: it must be that, not a symlink or a
    // directory someone else made for us to write into.
    struct stat St;
    if (lstat(C.RunDir.c_str(), &St) == 0 && S_ISDIR(St.st_mode) && St.st_uid == getuid())
      return C.RunDir;
    warnOnce(Warned, "not recording: run directory '" + C.RunDir +
                         "' is not a directory of this user (SCOPEPROF_RUN_DIR)");
    return "";
  }
  std::string Dir = createRunDirectory(C.OutDir, Pid);
  if (Dir.empty())
    warnOnce(Warned, "cannot create run directory in '" + C.OutDir + "': " + std::strerror(errno));
  return Dir;
}

/// A random number that tells this run apart from every other run of the same name (two runs
/// in one second with the same pid: pid 1 in two containers). Children inherit it.
uint64_t runNonce(const Config &C) {
  uint64_t Nonce = 0;
  if (const char *Inherited = getenv("SCOPEPROF_RUN_NONCE"); Inherited && !C.RunDir.empty())
    Nonce = std::strtoull(Inherited, nullptr, 10);
  while (!Nonce && getrandom(&Nonce, sizeof(Nonce), 0) != sizeof(Nonce) && errno == EINTR) {
  }
  return Nonce ? Nonce : (static_cast<uint64_t>(getpid()) << 32) ^ monotonicNs();
}

void readProcessIdentity(Recorder &R) {
  R.ProcessName = processName("self");
  char Exe[4096];
  ssize_t N = readlink("/proc/self/exe", Exe, sizeof(Exe) - 1);
  R.Exe = N > 0 ? std::string(Exe, static_cast<size_t>(N)) : "";
  R.Cmdline = readSmallFile("/proc/self/cmdline");
  if (!R.Cfg.RecordCmdline)
    R.Cmdline = R.Cmdline.substr(0, R.Cmdline.find('\0')); // the program, not its arguments
  if (!R.Cmdline.empty() && R.Cmdline.back() == '\0')
    R.Cmdline.pop_back();
}

void exportIdentity(const Recorder &R) {
  setenv("SCOPEPROF_SELF_PID", std::to_string(R.Pid).c_str(), 1);
  setenv("SCOPEPROF_SELF_NAME", R.ProcessName.c_str(), 1);
  setenv("SCOPEPROF_SELF_PARENT_NAME", R.ParentName.c_str(), 1);
}

void finalFlush() {
  Recorder &R = *Rec;
  if (scopeprof_tls.busy) {
    // exit() from a signal handler that interrupted the recorder, which may hold the locks.
    std::fprintf(stderr, "scopeprof: warning: exit inside the recorder (from a signal handler); "
                         "what this process recorded since its last flush is lost\n");
    return;
  }
  if (foreignProcess())
    return;
  stopControl(R);
  pthread_mutex_lock(&R.M);
  if (R.WriterRunning) {
    R.StopWriter = true;
    pthread_cond_signal(&R.WriterCv);
    pthread_t W = R.Writer;
    pthread_mutex_unlock(&R.M);
    pthread_join(W, nullptr);
    pthread_mutex_lock(&R.M);
  } else {
    R.StopWriter = true;
    drainQueue(R);
    flushRunningThreads(R);
    drainQueue(R);
  }
  R.ShuttingDown = true;
  pthread_cond_broadcast(&R.FreeCv);
  uint64_t Unrecorded = R.DroppedUnrecorded;
  for (const ThreadLog *L : R.Threads)
    Unrecorded += __atomic_load_n(&L->Dropped, __ATOMIC_RELAXED) - L->DroppedWritten;
  pthread_mutex_unlock(&R.M);
  if (Unrecorded)
    std::fprintf(stderr,
                 "scopeprof: warning: process %d lost %llu calls that no log counts: they could "
                 "not be written, nor could their count (is the disk full?)\n",
                 R.Pid, static_cast<unsigned long long>(Unrecorded));
  // A run that recorded a lot says so once, with what to do about it: a big log is a slow load
  // and a big database.
  constexpr uint64_t LargeLogBytes = uint64_t{256} << 20;
  uint64_t Bytes = __atomic_load_n(&R.LogBytes, __ATOMIC_RELAXED);
  bool Large = Bytes >= LargeLogBytes || __atomic_load_n(&R.OverBudget, __ATOMIC_RELAXED);
  if (R.Cfg.Verbose || Large)
    std::fprintf(stderr,
                 "scopeprof: process %d recorded %llu calls (%llu MiB of logs, %llu functions "
                 "throttled) in %s\n",
                 R.Pid, static_cast<unsigned long long>(R.CallsWritten),
                 static_cast<unsigned long long>(Bytes >> 20),
                 static_cast<unsigned long long>(R.SitesThrottled), R.RunDir.c_str());
  if (Large)
    std::fprintf(stderr, "scopeprof: to record less: SCOPEPROF_MIN_DURATION=1us keeps only calls "
                         "of 1 us or more one by one (totals stay right); 'scopeprof rules "
                         "suggest' leaves out what costs more to measure than it is worth\n");
}

void beforeFork() {
  if (!Rec || Rec->RunDir.empty())
    return;
  scopeprof_flush();
  pthread_mutex_lock(&Rec->LiveM);
  pthread_mutex_lock(&Rec->SitesM);
  pthread_mutex_lock(&Rec->M);
}

void afterForkParent() {
  if (!Rec || Rec->RunDir.empty())
    return;
  pthread_mutex_unlock(&Rec->M);
  pthread_mutex_unlock(&Rec->SitesM);
  pthread_mutex_unlock(&Rec->LiveM);
}

/// The child continues in new files with its own pid; only the forking thread survives,
/// and the writer thread does not.
void afterForkChild() {
  if (!Rec || Rec->RunDir.empty())
    return;
  Recorder &R = *Rec;
  pthread_mutex_unlock(&R.M);
  pthread_mutex_unlock(&R.SitesM);
  pthread_mutex_unlock(&R.LiveM);
  pthread_cond_init(&R.WriterCv, nullptr);
  pthread_cond_init(&R.FreeCv, nullptr);
  pthread_cond_init(&R.FlushCv, nullptr);
  R.WriterRunning = false;
  R.Queue.clear();
  R.FlushRequested = R.FlushDone = 0;
  R.CallsWritten = R.BatchesWritten = 0;
  // Same program, new process: the name stays (the forking thread's name is not the program's).
  R.Ppid = R.Pid;
  R.ParentName = R.ProcessName;
  R.Pid = getpid();
  exportIdentity(R);
  R.RestateCuts = std::any_of(R.Loads.begin(), R.Loads.end(),
                              [](const SiteLoad &Load) { return Load.CutTicks != 0; });
  // Throttled calls are drawn apart from the parent's: the inherited state repeats its draws.
  scopeprof_tls.sample_countdown = 1;
  scopeprof_tls.sample_random = 0;
  for (ThreadLog *L : R.Threads) {
    if (L == MyLog)
      continue;
    if (L->Fd >= 0)
      close(L->Fd);
    L->Switches.dropInherited();
    L->Sampler.dropInherited();
    free(L->Buffers[0].Data);
    free(L->Buffers[1].Data);
    delete L;
  }
  R.Threads.clear();
  dropPendingTracker();
  R.LogBytes = 0; // the child's logs are its own, and so is its budget
  R.OverBudget = false;
  R.DroppedUnrecorded = 0;
  R.Live.clear(); // what `ctl results` says of the child is what the child's logs hold
  R.LiveCalls = 0;
  R.StartMonoNs = monotonicNs();
  if (ThreadLog *L = MyLog) {
    // Everything recorded before fork was written by beforeFork().
    if (L->Fd >= 0)
      close(L->Fd);
    L->Tid = currentTid();
    // The inherited event follows the parent's thread: the child's thread gets its own.
    L->Switches.dropInherited();
    L->OffCpuPending.clear();
    trackSwitches(R, *L);
    L->Sampler.dropInherited();
    sampleCpu(R, *L);
    L->Fd = openLogFile(R, *L);
    L->Current = 0;
    for (Buffer &B : L->Buffers)
      B = Buffer{B.Data};
    L->Buffers[0].State = Buffer::Filling;
    L->Described.clear();
    L->ModulesDescribed.clear();
    L->Summaries.clear();
    L->ChildTicks.clear();
    L->Dropped = L->DroppedWritten = 0;
    L->LastName = readComm("/proc/self/task/" + std::to_string(L->Tid) + "/comm");
    scopeprof_tls.pos = L->Buffers[0].Data;
    scopeprof_tls.end = L->Buffers[0].Data + R.BufferRecords;
    R.Threads.push_back(L);
  }
  restartControlInChild(R);
}

void initialize() {
  auto *R = new Recorder;
  R->Cfg = readConfig();
  R->Pid = getpid();
  readProcessIdentity(*R);
  R->Ppid = getppid();
  // An instrumented process leaves its program name and its parent's for what it execs: what
  // /proc shows is a thread's name, which may have changed since.
  const char *SelfPid = getenv("SCOPEPROF_SELF_PID");
  const char *SelfName = getenv("SCOPEPROF_SELF_NAME");
  const char *SelfParentName = getenv("SCOPEPROF_SELF_PARENT_NAME");
  if (SelfPid && SelfName && std::to_string(R->Ppid) == SelfPid)
    R->ParentName = SelfName; // exec'd by an instrumented process's child
  else if (SelfPid && SelfParentName && std::to_string(R->Pid) == SelfPid)
    R->ParentName = SelfParentName; // an instrumented process exec'd itself into us
  else
    R->ParentName = processName(std::to_string(R->Ppid));
  timespec Wall;
  clock_gettime(CLOCK_REALTIME, &Wall);
  R->StartWallNs = static_cast<uint64_t>(Wall.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(Wall.tv_nsec);
  R->StartMonoNs = monotonicNs();
  calibrateClock(*R);
  R->MinDurationTicks = static_cast<uint64_t>(static_cast<double>(R->Cfg.MinDurationNs) *
                                              static_cast<double>(R->TicksPerSecond) / 1e9);
  R->ThrottleTicks = static_cast<uint64_t>(static_cast<double>(R->Cfg.ThrottleNs) *
                                           static_cast<double>(R->TicksPerSecond) / 1e9);
  measureScopeCost(*R);
  R->MemoryCountable = allocationsCounted();
  if (R->Cfg.CountMemory) {
    R->CountsMemory = R->MemoryCountable;
    if (!R->CountsMemory)
      std::fprintf(stderr, "scopeprof: warning: SCOPEPROF_COUNTERS=memory: this program's malloc "
                           "is not the scopeprof runtime's (the static runtime, or another "
                           "allocator or a sanitizer comes first); allocations are not counted\n");
  }
  R->BufferRecords = R->Cfg.BufferBytes / sizeof(scopeprof_record);
  R->GlobalEnabled = R->Cfg.Enabled;
  if (!R->Cfg.RulesFile.empty()) {
    rules::RulesError Err;
    R->Rules = rules::RuleSet::load(R->Cfg.RulesFile, &Err);
    if (!R->Rules)
      std::fprintf(stderr, "scopeprof: warning: SCOPEPROF_RULES: %s; recording every site\n",
                   Err.format().c_str());
  }
  {
    Lock G(R->SitesM);
    countersNamedByRules(*R);
  }
  R->RunDir = makeRunDir(R->Cfg, R->Pid);
  R->RunNonce = runNonce(R->Cfg);
  pthread_key_create(&R->ExitKey, threadExit);
  Rec = R;
  if (R->RunDir.empty())
    return;
  // exec'd and spawned children join this run, with its identity.
  setenv("SCOPEPROF_RUN_DIR", R->RunDir.c_str(), 1);
  setenv("SCOPEPROF_RUN_NONCE", std::to_string(R->RunNonce).c_str(), 1);
  exportIdentity(*R);
  pthread_atfork(beforeFork, afterForkParent, afterForkChild);
  atexit(finalFlush);
  if (R->Cfg.CpuSampleNs)
    R->SamplesCpu = installSampleHandler(R->Cfg.Verbose);
  // Not where calls are only counted (SCOPEPROF_MIN_DURATION, SCOPEPROF_MAX_DEPTH): the loader
  // does not share out such a run's times by the samples, and a cut function's would be lost.
  R->ThrottledOff = R->Cfg.Then == Config::ThenOff ||
                    (R->Cfg.Then == Config::ThenAuto && R->SamplesCpu && !R->Cfg.MinDurationNs &&
                     !R->Cfg.MaxDepth);
  if (R->Cfg.MinDurationNs || R->Cfg.MaxDepth)
    samplesDecide(); // calls are only counted from the start
  startControl(*R);
  if (R->Cfg.Verbose)
    std::fprintf(stderr, "scopeprof: recording pid %d to %s\n", R->Pid, R->RunDir.c_str());
  // Last: the recorder's own allocations above are not the program's.
  scopeprof_count_memory = R->CountsMemory ? 1 : 0;
}


} // namespace

Recorder &recorder() {
  pthread_once(&InitOnce, initialize);
  return *Rec;
}

// Early, so our exit handler is registered before (and so runs after) most static objects'.
__attribute__((constructor(101))) void initializeAtLoad() {
  recorder();
  // The main thread always has a (possibly empty) log: a run is valid even with no calls.
  if (!Rec->RunDir.empty() && !MyLog)
    attachThread(*Rec);
}


} // namespace scopeprof::runtime

using namespace scopeprof::runtime;

extern "C" {

const char *scopeprof_run_dir(void) {
  Recorder &R = recorder();
  return R.RunDir.empty() ? nullptr : R.RunDir.c_str();
}

} // extern "C"
