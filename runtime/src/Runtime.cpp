// The recorder: site registry, per-thread buffers, the writer thread, flush, fork and exit.
//
// Each thread fills one of its two buffers of 24-byte records without locks; when it is full
// the buffer is queued for the writer thread and the thread continues in the other one. The
// writer turns buffers into framed, checksummed batches appended to the thread's own log file,
// and every ~100 ms also writes what running threads have recorded so far. See
// docs/log-format.md for the bytes and docs/runtime.md for the behaviour.
#include "Config.h"
#include "Internal.h"
#include "scopeprof/LogFormat.h"
#include "scopeprof/rules/Rules.h"
#include "scopeprof/scope.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <optional>
#include <pthread.h>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

__thread scopeprof_thread scopeprof_tls __attribute__((tls_model("initial-exec"))) = {
    nullptr, nullptr, 0, 0};
int scopeprof_clock_is_tsc = 0;

// The C header spells the kinds out for C code; they must stay the rules language's.
static_assert(unsigned{SCOPEPROF_KIND_FREE} == scopeprof::rules::KindFree &&
                  unsigned{SCOPEPROF_KIND_METHOD} == scopeprof::rules::KindMethod &&
                  unsigned{SCOPEPROF_KIND_CTOR} == scopeprof::rules::KindCtor &&
                  unsigned{SCOPEPROF_KIND_DTOR} == scopeprof::rules::KindDtor &&
                  unsigned{SCOPEPROF_KIND_OPERATOR} == scopeprof::rules::KindOperator &&
                  unsigned{SCOPEPROF_KIND_LAMBDA} == scopeprof::rules::KindLambda &&
                  unsigned{SCOPEPROF_KIND_STATIC} == scopeprof::rules::KindStatic &&
                  unsigned{SCOPEPROF_KIND_TEMPLATE} == scopeprof::rules::KindTemplate,
              "scope.h and rules/Rules.h disagree on kind bits");

namespace scopeprof::runtime {
namespace {

namespace fmt = scopeprof::format;

constexpr uint64_t PeriodicFlushNs = 100'000'000;

uint64_t monotonicNs() {
  timespec T;
  clock_gettime(CLOCK_MONOTONIC, &T);
  return static_cast<uint64_t>(T.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(T.tv_nsec);
}

pid_t currentTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

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

bool writeAll(int Fd, const char *Data, size_t Size) {
  while (Size > 0) {
    ssize_t N = write(Fd, Data, Size);
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0)
      return false;
    Data += N;
    Size -= static_cast<size_t>(N);
  }
  return true;
}

/// Little-endian appenders for building frames, into a string that may be reused.
struct Bytes {
  std::string &S;
  void u8(uint8_t V) { S.push_back(static_cast<char>(V)); }
  void u16(uint16_t V) { S.append(reinterpret_cast<const char *>(&V), 2); }
  void u32(uint32_t V) { S.append(reinterpret_cast<const char *>(&V), 4); }
  void u64(uint64_t V) { S.append(reinterpret_cast<const char *>(&V), 8); }
  void str(const std::string &V) {
    u32(static_cast<uint32_t>(V.size()));
    S += V;
  }
  void keyU64(uint16_t K, uint64_t V) {
    u16(K);
    u32(8);
    u64(V);
  }
  void keyStr(uint16_t K, const std::string &V) {
    u16(K);
    u32(static_cast<uint32_t>(V.size()));
    S += V;
  }
};

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
  // Owned by the writer:
  std::vector<uint8_t> Described; ///< per site index: descriptor already in this file
  uint64_t NameCheckedNs = 0;
  std::unordered_map<uint32_t, Summary> Summaries;
  uint64_t DroppedWritten = 0;
  std::string LastName;
};

/// The one process-wide recorder. Allocated once and never destroyed, so it outlives every
/// static destructor that may still run instrumented code.
struct Recorder {
  Config Cfg;
  std::string RunDir; ///< empty: recording is off
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
  pthread_t Writer{};
  bool WriterRunning = false, StopWriter = false, ShuttingDown = false;
  uint64_t FlushRequested = 0, FlushDone = 0;
  uint64_t LastPeriodicNs = 0;
  uint64_t CallsWritten = 0, BatchesWritten = 0;
  uint64_t LogBytes = 0;   ///< written by this process (atomic: several threads write batches)
  bool OverBudget = false; ///< past SCOPEPROF_MAX_LOG_SIZE: calls are only counted (atomic)
  std::string Frame; ///< the batch being built; one writer at a time, capacity kept

  // Sites, under SitesM (never taken while holding M).
  pthread_mutex_t SitesM = PTHREAD_MUTEX_INITIALIZER;
  scopeprof_site *SiteList = nullptr;
  std::vector<scopeprof_site *> SitesByIndex;
  std::unordered_map<uint64_t, scopeprof_site *> RegionSites;
  bool GlobalEnabled = true;
  std::optional<rules::RuleSet> Rules;

  pthread_key_t ExitKey{};
};

Recorder *Rec = nullptr;
pthread_once_t InitOnce = PTHREAD_ONCE_INIT;
__thread ThreadLog *MyLog __attribute__((tls_model("initial-exec"))) = nullptr;
__thread bool ThreadGone __attribute__((tls_model("initial-exec"))) = false;
// Where records go when there is nowhere to write them (recording off, thread gone).
__thread scopeprof_record DiscardBuffer[64] __attribute__((tls_model("initial-exec")));

struct Lock {
  explicit Lock(pthread_mutex_t &M) : M(M) { pthread_mutex_lock(&M); }
  ~Lock() { pthread_mutex_unlock(&M); }
  pthread_mutex_t &M;
};

scopeprof_record *discard() {
  scopeprof_tls.pos = DiscardBuffer;
  scopeprof_tls.end = DiscardBuffer + 64;
  return DiscardBuffer;
}

// ---- Clock ---------------------------------------------------------------------------------

bool invariantTsc() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned A, B, C, D;
  __asm__ volatile("cpuid" : "=a"(A), "=b"(B), "=c"(C), "=d"(D) : "a"(0x80000000u), "c"(0));
  if (A < 0x80000007u)
    return false;
  __asm__ volatile("cpuid" : "=a"(A), "=b"(B), "=c"(C), "=d"(D) : "a"(0x80000007u), "c"(0));
  return (D >> 8) & 1;
#else
  return false;
#endif
}

/// Pairs a tick reading with CLOCK_MONOTONIC; the reader converts with these anchors. Of a few
/// tries, the one with the narrowest window wins (a preempted or slow read is discarded).
void sampleAnchor(uint64_t &Ticks, uint64_t &Ns) {
  uint64_t Best = UINT64_MAX;
  for (int Try = 0; Try < 4; ++Try) {
    uint64_t Before = scopeprof_now();
    uint64_t Now = monotonicNs();
    uint64_t After = scopeprof_now();
    if (After - Before < Best) {
      Best = After - Before;
      Ticks = Before + (After - Before) / 2;
      Ns = Now;
    }
  }
}

void calibrateClock(Recorder &R) {
  bool Tsc = R.Cfg.Clock == Config::ClockTsc ||
             (R.Cfg.Clock == Config::ClockAuto && invariantTsc());
  scopeprof_clock_is_tsc = Tsc;
  sampleAnchor(R.CalibrationTicks, R.CalibrationNs);
  if (!Tsc)
    return;
  // A first estimate for short runs; the per-batch anchors refine it over longer spans.
  uint64_t T1, N1;
  do
    sampleAnchor(T1, N1);
  while (N1 - R.CalibrationNs < 200'000);
  R.TicksPerSecond = static_cast<uint64_t>(static_cast<double>(T1 - R.CalibrationTicks) * 1e9 /
                                           static_cast<double>(N1 - R.CalibrationNs));
}

// ---- Sites ---------------------------------------------------------------------------------

bool siteWanted(Recorder &R, const scopeprof_site *S) {
  if (!R.GlobalEnabled || R.RunDir.empty())
    return false;
  if (!R.Rules)
    return true;
  std::string_view Sig = S->signature;
  return R.Rules->decide({S->file, rules::qualifiedNameOf(Sig), Sig, S->kinds}).Included;
}

void reevaluateSites(Recorder &R) {
  for (scopeprof_site *S = R.SiteList; S; S = S->next)
    __atomic_store_n(&S->state, siteWanted(R, S) ? SCOPEPROF_SITE_ON : SCOPEPROF_SITE_OFF,
                     __ATOMIC_RELAXED);
}

void registerLocked(Recorder &R, scopeprof_site *S) {
  S->index = static_cast<uint32_t>(R.SitesByIndex.size());
  R.SitesByIndex.push_back(S);
  S->next = R.SiteList;
  R.SiteList = S;
  __atomic_store_n(&S->state, siteWanted(R, S) ? SCOPEPROF_SITE_ON : SCOPEPROF_SITE_OFF,
                   __ATOMIC_RELEASE);
}

// ---- Log files -----------------------------------------------------------------------------

/// Frames are built in place: 16 bytes reserved at \p FrameStart, then the payload.
void beginFrame(std::string &Out) { Out.append(fmt::FrameHeaderSize, '\0'); }

void endFrame(std::string &Out, size_t FrameStart, uint32_t Type) {
  size_t PayloadStart = FrameStart + fmt::FrameHeaderSize;
  uint32_t Header[4] = {fmt::FrameMagic, Type, static_cast<uint32_t>(Out.size() - PayloadStart),
                        fmt::crc32c(Out.data() + PayloadStart, Out.size() - PayloadStart)};
  std::memcpy(&Out[FrameStart], Header, sizeof(Header));
}

std::string headerFrame(const Recorder &R, pid_t Tid) {
  std::string Out(fmt::FileMagic, sizeof(fmt::FileMagic));
  Bytes P{Out};
  P.u32(fmt::Version);
  P.u32(0);
  size_t FrameStart = Out.size();
  beginFrame(Out);
  P.keyU64(fmt::KeyPid, static_cast<uint64_t>(R.Pid));
  P.keyU64(fmt::KeyPpid, static_cast<uint64_t>(R.Ppid));
  P.keyU64(fmt::KeyTid, static_cast<uint64_t>(Tid));
  P.keyStr(fmt::KeyProcessName, R.ProcessName);
  P.keyStr(fmt::KeyParentName, R.ParentName);
  P.keyStr(fmt::KeyExe, R.Exe);
  P.keyStr(fmt::KeyCmdline, R.Cmdline);
  P.keyStr(fmt::KeyThreadName, readComm("/proc/self/task/" + std::to_string(Tid) + "/comm"));
  P.keyStr(fmt::KeyClock, scopeprof_clock_is_tsc ? "tsc" : "monotonic");
  P.keyU64(fmt::KeyCalibrationTicks, R.CalibrationTicks);
  P.keyU64(fmt::KeyCalibrationNs, R.CalibrationNs);
  P.keyU64(fmt::KeyTicksPerSecond, R.TicksPerSecond);
  P.keyStr(fmt::KeyRunId, R.RunDir.substr(R.RunDir.rfind('/') + 1));
  P.keyU64(fmt::KeyStartWallNs, R.StartWallNs);
  P.keyU64(fmt::KeyMinDurationNs, R.Cfg.MinDurationNs);
  P.keyU64(fmt::KeyMaxDepth, R.Cfg.MaxDepth);
  endFrame(Out, FrameStart, fmt::FrameHeader);
  return Out;
}

void warnOnce(bool &Warned, const std::string &Message) {
  if (!Warned)
    std::fprintf(stderr, "scopeprof: warning: %s\n", Message.c_str());
  Warned = true;
}

int openLogFile(const Recorder &R, pid_t Tid) {
  static bool Warned = false;
  std::string Base = R.RunDir + "/" + std::to_string(R.Pid) + "-" + std::to_string(Tid);
  for (int Attempt = 0; Attempt < 100; ++Attempt) {
    std::string Path = Base + (Attempt ? "-" + std::to_string(Attempt) : "") + ".splog";
    int Fd = open(Path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (Fd >= 0) {
      std::string Header = headerFrame(R, Tid);
      if (writeAll(Fd, Header.data(), Header.size()))
        return Fd;
      warnOnce(Warned, "cannot write '" + Path + "': " + std::strerror(errno));
      close(Fd);
      return -1;
    }
    if (errno != EEXIST) {
      warnOnce(Warned, "cannot create '" + Path + "': " + std::strerror(errno));
      return -1;
    }
  }
  return -1;
}

// ---- The writer ----------------------------------------------------------------------------

/// Builds one batch from \p N buffered units and appends it to the thread's file.
void writeBatch(Recorder &R, ThreadLog &L, const scopeprof_record *Units, size_t N) {
  std::string &Frame = R.Frame;
  Frame.clear();
  beginFrame(Frame);
  Bytes P{Frame};
  uint64_t AnchorTicks, AnchorNs;
  sampleAnchor(AnchorTicks, AnchorNs);
  P.u64(AnchorTicks);
  P.u64(AnchorNs);
  size_t Empty = P.S.size();

  size_t CallsCountAt = std::string::npos;
  uint32_t CallsInBlock = 0;
  auto CloseCalls = [&] {
    if (CallsCountAt != std::string::npos)
      std::memcpy(&P.S[CallsCountAt], &CallsInBlock, 4);
    CallsCountAt = std::string::npos;
    CallsInBlock = 0;
  };
  auto Describe = [&](uint32_t Index) {
    if (Index < L.Described.size() && L.Described[Index])
      return;
    scopeprof_site *S;
    {
      Lock G(R.SitesM);
      if (Index >= R.SitesByIndex.size())
        return;
      S = R.SitesByIndex[Index];
    }
    CloseCalls();
    if (L.Described.size() <= Index)
      L.Described.resize(Index + 1);
    L.Described[Index] = 1;
    P.u8(fmt::EntrySite);
    P.u32(Index);
    P.u64(S->id);
    P.u32(S->line);
    P.u32(S->kinds);
    P.str(S->signature ? S->signature : "");
    P.str(S->file ? S->file : "");
  };
  const uint64_t TicksPerSecond = R.TicksPerSecond ? R.TicksPerSecond : 1;
  const bool OverBudget = __atomic_load_n(&R.OverBudget, __ATOMIC_RELAXED);
  const bool Filtering = R.MinDurationTicks || R.Cfg.MaxDepth || OverBudget;
  // Calls that are written as they are: no extension unit, site described, not filtered.
  auto Plain = [&](const scopeprof_record &U) {
    if (U.meta & fmt::FlagExt)
      return false;
    auto Index = static_cast<uint32_t>(U.meta & fmt::MetaIndexMask);
    if (Index >= L.Described.size() || !L.Described[Index])
      return false;
    if (!Filtering || (U.meta & fmt::FlagBroken))
      return true;
    if (OverBudget)
      return false;
    auto Depth = static_cast<uint32_t>((U.meta >> fmt::MetaDepthShift) & fmt::MetaDepthMask);
    return U.end - U.start >= R.MinDurationTicks && !(R.Cfg.MaxDepth && Depth >= R.Cfg.MaxDepth);
  };
  for (size_t I = 0; I < N;) {
    const scopeprof_record &U = Units[I];
    if (U.meta & fmt::FlagExt) {
      auto Type = static_cast<uint8_t>(U.meta >> fmt::ExtTypeShift);
      auto Size = static_cast<uint32_t>(U.meta & fmt::MetaIndexMask);
      const char *Payload = reinterpret_cast<const char *>(&Units[I + 1]);
      I += 1 + (Size + sizeof(scopeprof_record) - 1) / sizeof(scopeprof_record);
      CloseCalls();
      if (Type == fmt::ExtException) {
        std::string TypeName(Payload);
        std::string Message(Payload + TypeName.size() + 1);
        P.u8(fmt::EntryException);
        P.str(TypeName);
        P.str(Message);
      } else if (Type == fmt::ExtRegion) {
        uint32_t Index;
        std::memcpy(&Index, Payload, 4);
        Describe(Index);
        P.u8(fmt::EntryRegion);
        P.S.append(Payload, 32);
      } else if (Type == fmt::ExtThreadName) {
        L.LastName.assign(Payload, Size);
        P.u8(fmt::EntryThreadName);
        P.str(L.LastName);
      }
      continue;
    }
    Describe(static_cast<uint32_t>(U.meta & fmt::MetaIndexMask));
    if (!Plain(U)) { // filtered: counted and summed, not written one by one
      Summary &S = L.Summaries[static_cast<uint32_t>(U.meta & fmt::MetaIndexMask)];
      ++S.Calls;
      S.TotalTicks += U.end - U.start;
      S.Dirty = true;
      ++I;
      continue;
    }
    size_t RunEnd = I + 1;
    while (RunEnd < N && Plain(Units[RunEnd]))
      ++RunEnd;
    if (CallsCountAt == std::string::npos) {
      P.u8(fmt::EntryCalls);
      CallsCountAt = P.S.size();
      P.u32(0);
    }
    P.S.append(reinterpret_cast<const char *>(&Units[I]), (RunEnd - I) * sizeof(scopeprof_record));
    CallsInBlock += static_cast<uint32_t>(RunEnd - I);
    R.CallsWritten += RunEnd - I;
    I = RunEnd;
  }
  CloseCalls();
  // Renames by pthread_setname_np on the thread itself arrive as units above; this catches
  // the others (prctl, or a name set from another thread).
  std::string Name;
  if (AnchorNs - L.NameCheckedNs >= PeriodicFlushNs) {
    L.NameCheckedNs = AnchorNs;
    Name = readComm("/proc/self/task/" + std::to_string(L.Tid) + "/comm");
  }
  if (!Name.empty() && Name != L.LastName) {
    P.u8(fmt::EntryThreadName);
    P.str(Name);
    L.LastName = Name;
  }
  for (auto &[Index, S] : L.Summaries) {
    if (!S.Dirty)
      continue;
    Describe(Index);
    P.u8(fmt::EntrySummary);
    P.u32(Index);
    P.u64(S.Calls);
    P.u64(static_cast<uint64_t>(static_cast<double>(S.TotalTicks) * 1e9 /
                                static_cast<double>(TicksPerSecond)));
    S.Dirty = false;
  }
  uint64_t Dropped = __atomic_load_n(&L.Dropped, __ATOMIC_RELAXED);
  if (Dropped != L.DroppedWritten) {
    P.u8(fmt::EntryDropped);
    P.u64(Dropped);
    L.DroppedWritten = Dropped;
  }
  if (P.S.size() == Empty || L.Fd < 0)
    return;
  endFrame(Frame, 0, fmt::FrameBatch);
  static bool Warned = false;
  if (!writeAll(L.Fd, Frame.data(), Frame.size()))
    warnOnce(Warned, std::string("cannot write a log batch: ") + std::strerror(errno));
  ++R.BatchesWritten;
  uint64_t Written = __atomic_add_fetch(&R.LogBytes, Frame.size(), __ATOMIC_RELAXED);
  if (R.Cfg.MaxLogBytes && Written >= R.Cfg.MaxLogBytes &&
      !__atomic_exchange_n(&R.OverBudget, true, __ATOMIC_RELAXED))
    std::fprintf(stderr,
                 "scopeprof: this process wrote %llu MiB of logs (SCOPEPROF_MAX_LOG_SIZE); from "
                 "now on its calls are counted per function, not written one by one\n",
                 static_cast<unsigned long long>(Written >> 20));
}

/// Writes queued full buffers, oldest first, and frees them. Holds M.
void drainQueue(Recorder &R) {
  while (!R.Queue.empty()) {
    auto [L, Index] = R.Queue.front();
    R.Queue.erase(R.Queue.begin());
    Buffer &B = L->Buffers[Index];
    pthread_mutex_unlock(&R.M);
    writeBatch(R, *L, B.Data + B.Flushed, B.Count - B.Flushed);
    pthread_mutex_lock(&R.M);
    B.State = Buffer::Free;
    B.Flushed = 0;
    B.Count = 0;
    pthread_cond_broadcast(&R.FreeCv);
  }
}

/// Writes what running threads recorded since the last flush. Holds M on entry and exit;
/// records are copied under the lock because their owner keeps appending. A thread's queued
/// buffers are older than the one it fills, so the queue is drained first.
void flushRunningThreads(Recorder &R, std::vector<scopeprof_record> &Scratch) {
  for (size_t I = 0; I < R.Threads.size(); ++I) {
    drainQueue(R);
    ThreadLog *L = R.Threads[I];
    Buffer &B = L->Buffers[L->Current];
    if (!L->Owner || B.State != Buffer::Filling)
      continue; // exited, or waiting for a free buffer: its records are in the queue
    scopeprof_record *Pos = __atomic_load_n(&L->Owner->pos, __ATOMIC_ACQUIRE);
    if (Pos < B.Data || Pos > B.Data + R.BufferRecords)
      continue; // the thread is in its discard buffer
    size_t Upto = static_cast<size_t>(Pos - B.Data);
    if (Upto <= B.Flushed)
      continue;
    Scratch.assign(B.Data + B.Flushed, B.Data + Upto);
    B.Flushed = Upto;
    pthread_mutex_unlock(&R.M);
    writeBatch(R, *L, Scratch.data(), Scratch.size());
    pthread_mutex_lock(&R.M);
  }
}

/// Closes the logs of exited threads once everything they recorded is written. Holds M.
void releaseExitedThreads(Recorder &R) {
  for (size_t I = 0; I < R.Threads.size();) {
    ThreadLog *L = R.Threads[I];
    if (L->Owner || L->Buffers[0].State != Buffer::Free || L->Buffers[1].State != Buffer::Free) {
      ++I;
      continue;
    }
    if (L->Fd >= 0)
      close(L->Fd);
    free(L->Buffers[0].Data);
    free(L->Buffers[1].Data);
    R.Threads.erase(R.Threads.begin() + static_cast<ptrdiff_t>(I));
    delete L;
  }
}

void *writerMain(void *) {
  Recorder &R = *Rec;
  std::vector<scopeprof_record> Scratch;
  pthread_mutex_lock(&R.M);
  for (;;) {
    if (R.Queue.empty() && !R.StopWriter && R.FlushRequested == R.FlushDone) {
      timespec Deadline;
      clock_gettime(CLOCK_REALTIME, &Deadline);
      Deadline.tv_nsec += PeriodicFlushNs;
      Deadline.tv_sec += Deadline.tv_nsec / 1'000'000'000;
      Deadline.tv_nsec %= 1'000'000'000;
      pthread_cond_timedwait(&R.WriterCv, &R.M, &Deadline);
    }
    drainQueue(R);
    uint64_t Requested = R.FlushRequested;
    bool Stop = R.StopWriter;
    if (Stop || Requested != R.FlushDone || monotonicNs() - R.LastPeriodicNs >= PeriodicFlushNs) {
      flushRunningThreads(R, Scratch);
      drainQueue(R);
      R.LastPeriodicNs = monotonicNs();
      R.FlushDone = Requested;
      pthread_cond_broadcast(&R.FlushCv);
    }
    releaseExitedThreads(R);
    if (Stop)
      break;
  }
  R.WriterRunning = false;
  pthread_mutex_unlock(&R.M);
  return nullptr;
}

/// Starts the writer if it is not running (first use, or in a fork child). Holds M.
void ensureWriter(Recorder &R) {
  if (R.WriterRunning || R.StopWriter || R.RunDir.empty())
    return;
  // The writer must not record itself or inherit signal handlers' work.
  sigset_t All, Old;
  sigfillset(&All);
  pthread_sigmask(SIG_SETMASK, &All, &Old);
  R.WriterRunning = pthread_create(&R.Writer, nullptr, writerMain, nullptr) == 0;
  pthread_sigmask(SIG_SETMASK, &Old, nullptr);
}

// ---- Threads -------------------------------------------------------------------------------

void threadExit(void *Arg) {
  auto *L = static_cast<ThreadLog *>(Arg);
  Recorder &R = *Rec;
  {
    Lock G(R.M);
    Buffer &B = L->Buffers[L->Current];
    B.Count = static_cast<size_t>(scopeprof_tls.pos - B.Data);
    B.State = Buffer::Full;
    R.Queue.emplace_back(L, L->Current);
    L->Owner = nullptr;
    ensureWriter(R);
    pthread_cond_signal(&R.WriterCv);
  }
  MyLog = nullptr;
  ThreadGone = true;
  discard();
}

scopeprof_record *attachThread(Recorder &R) {
  auto *L = new ThreadLog;
  L->Tid = currentTid();
  L->Owner = &scopeprof_tls;
  for (Buffer &B : L->Buffers)
    B.Data = static_cast<scopeprof_record *>(std::calloc(R.BufferRecords, sizeof(scopeprof_record)));
  L->Fd = openLogFile(R, L->Tid);
  L->LastName = readComm("/proc/self/task/" + std::to_string(L->Tid) + "/comm");
  L->Buffers[0].State = Buffer::Filling;
  {
    Lock G(R.M);
    R.Threads.push_back(L);
    ensureWriter(R);
  }
  pthread_setspecific(R.ExitKey, L);
  MyLog = L;
  scopeprof_tls.pos = L->Buffers[0].Data;
  scopeprof_tls.end = L->Buffers[0].Data + R.BufferRecords;
  return scopeprof_tls.pos;
}

// ---- Process: init, exit, fork -------------------------------------------------------------

std::string makeRunDir(const Config &C, pid_t Pid) {
  static bool Warned = false;
  if (!C.RunDir.empty()) {
    if (mkdir(C.RunDir.c_str(), 0755) == 0 || errno == EEXIST)
      return C.RunDir;
    warnOnce(Warned, "cannot create run directory '" + C.RunDir + "': " + std::strerror(errno));
    return "";
  }
  std::string Out = C.OutDir;
  for (size_t I = 1; I <= Out.size(); ++I)
    if (I == Out.size() || Out[I] == '/')
      mkdir(Out.substr(0, I).c_str(), 0755);
  char Stamp[32];
  time_t Now = time(nullptr);
  tm Tm;
  gmtime_r(&Now, &Tm);
  strftime(Stamp, sizeof(Stamp), "%Y%m%d-%H%M%S", &Tm);
  std::string Dir = Out + "/run-" + Stamp + "-" + std::to_string(Pid);
  if (mkdir(Dir.c_str(), 0755) != 0 && errno != EEXIST) {
    warnOnce(Warned, "cannot create run directory '" + Dir + "': " + std::strerror(errno));
    return "";
  }
  if (Dir[0] != '/') {
    char Cwd[4096];
    if (getcwd(Cwd, sizeof(Cwd)))
      Dir = std::string(Cwd) + "/" + Dir;
  }
  return Dir;
}

void readProcessIdentity(Recorder &R) {
  R.ProcessName = processName("self");
  char Exe[4096];
  ssize_t N = readlink("/proc/self/exe", Exe, sizeof(Exe) - 1);
  R.Exe = N > 0 ? std::string(Exe, static_cast<size_t>(N)) : "";
  R.Cmdline = readSmallFile("/proc/self/cmdline");
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
    std::vector<scopeprof_record> Scratch;
    drainQueue(R);
    flushRunningThreads(R, Scratch);
    drainQueue(R);
  }
  R.ShuttingDown = true;
  pthread_cond_broadcast(&R.FreeCv);
  pthread_mutex_unlock(&R.M);
  if (R.Cfg.Verbose)
    std::fprintf(stderr, "scopeprof: %llu calls in %llu batches written to %s\n",
                 static_cast<unsigned long long>(R.CallsWritten),
                 static_cast<unsigned long long>(R.BatchesWritten), R.RunDir.c_str());
}

void beforeFork() {
  if (!Rec || Rec->RunDir.empty())
    return;
  scopeprof_flush();
  pthread_mutex_lock(&Rec->SitesM);
  pthread_mutex_lock(&Rec->M);
}

void afterForkParent() {
  if (!Rec || Rec->RunDir.empty())
    return;
  pthread_mutex_unlock(&Rec->M);
  pthread_mutex_unlock(&Rec->SitesM);
}

/// The child continues in new files with its own pid; only the forking thread survives,
/// and the writer thread does not.
void afterForkChild() {
  if (!Rec || Rec->RunDir.empty())
    return;
  Recorder &R = *Rec;
  pthread_mutex_unlock(&R.M);
  pthread_mutex_unlock(&R.SitesM);
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
  for (ThreadLog *L : R.Threads) {
    if (L == MyLog)
      continue;
    if (L->Fd >= 0)
      close(L->Fd);
    free(L->Buffers[0].Data);
    free(L->Buffers[1].Data);
    delete L;
  }
  R.Threads.clear();
  R.LogBytes = 0; // the child's logs are its own, and so is its budget
  R.OverBudget = false;
  if (ThreadLog *L = MyLog) {
    // Everything recorded before fork was written by beforeFork().
    if (L->Fd >= 0)
      close(L->Fd);
    L->Tid = currentTid();
    L->Fd = openLogFile(R, L->Tid);
    L->Current = 0;
    for (Buffer &B : L->Buffers)
      B = Buffer{B.Data};
    L->Buffers[0].State = Buffer::Filling;
    L->Described.clear();
    L->Summaries.clear();
    L->Dropped = L->DroppedWritten = 0;
    L->LastName = readComm("/proc/self/task/" + std::to_string(L->Tid) + "/comm");
    scopeprof_tls.pos = L->Buffers[0].Data;
    scopeprof_tls.end = L->Buffers[0].Data + R.BufferRecords;
    R.Threads.push_back(L);
  }
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
  calibrateClock(*R);
  R->MinDurationTicks = static_cast<uint64_t>(static_cast<double>(R->Cfg.MinDurationNs) *
                                              static_cast<double>(R->TicksPerSecond) / 1e9);
  R->BufferRecords = R->Cfg.BufferBytes / sizeof(scopeprof_record);
  R->GlobalEnabled = R->Cfg.Enabled;
  if (!R->Cfg.RulesFile.empty()) {
    rules::RulesError Err;
    R->Rules = rules::RuleSet::load(R->Cfg.RulesFile, &Err);
    if (!R->Rules)
      std::fprintf(stderr, "scopeprof: warning: SCOPEPROF_RULES: %s; recording every site\n",
                   Err.format().c_str());
  }
  R->RunDir = makeRunDir(R->Cfg, R->Pid);
  pthread_key_create(&R->ExitKey, threadExit);
  Rec = R;
  if (R->RunDir.empty())
    return;
  // exec'd and spawned children join this run.
  setenv("SCOPEPROF_RUN_DIR", R->RunDir.c_str(), 1);
  exportIdentity(*R);
  pthread_atfork(beforeFork, afterForkParent, afterForkChild);
  atexit(finalFlush);
  if (R->Cfg.Verbose)
    std::fprintf(stderr, "scopeprof: recording pid %d to %s\n", R->Pid, R->RunDir.c_str());
}

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

} // namespace

void appendExtension(uint8_t Type, const void *Payload, uint32_t Size) {
  size_t Units = 1 + (Size + sizeof(scopeprof_record) - 1) / sizeof(scopeprof_record);
  if (static_cast<size_t>(scopeprof_tls.end - scopeprof_tls.pos) < Units) {
    // Hand the buffer over early, padding it so nothing stale is read as records.
    while (scopeprof_tls.pos != scopeprof_tls.end)
      scopeprof_append(fmt::FlagExt | (uint64_t{0xff} << fmt::ExtTypeShift), 0, 0);
    scopeprof_refill();
  }
  scopeprof_record *U = scopeprof_tls.pos;
  if (static_cast<size_t>(scopeprof_tls.end - U) < Units)
    return; // a discard buffer too small for it: nowhere to write anyway
  U->meta = fmt::FlagExt | (static_cast<uint64_t>(Type) << fmt::ExtTypeShift) | Size;
  U->start = U->end = 0;
  std::memcpy(U + 1, Payload, Size);
  __atomic_store_n(&scopeprof_tls.pos, U + Units, __ATOMIC_RELEASE);
}

void recordThreadName(const char *Name) {
  if (MyLog && !ThreadGone)
    appendExtension(fmt::ExtThreadName, Name, static_cast<uint32_t>(strnlen(Name, 64)));
}

} // namespace scopeprof::runtime

using namespace scopeprof::runtime;

extern "C" {

int scopeprof_register_site(scopeprof_site *S) {
  Recorder &R = recorder();
  Lock G(R.SitesM);
  if (__atomic_load_n(&S->state, __ATOMIC_ACQUIRE) == SCOPEPROF_SITE_NEW)
    registerLocked(R, S);
  return S->state == SCOPEPROF_SITE_ON;
}

scopeprof_record *scopeprof_refill(void) {
  Recorder &R = recorder();
  if (R.RunDir.empty() || ThreadGone)
    return discard();
  ThreadLog *L = MyLog;
  if (!L)
    return attachThread(R);
  if (scopeprof_tls.pos < L->Buffers[L->Current].Data ||
      scopeprof_tls.pos > L->Buffers[L->Current].Data + R.BufferRecords)
    return discard(); // not our buffer: should not happen, never write out of bounds
  Lock G(R.M);
  Buffer &Cur = L->Buffers[L->Current];
  if (R.ShuttingDown) {
    // The final flush is done: later records have nowhere to go.
    scopeprof_tls.pos = Cur.Data;
    return Cur.Data;
  }
  Cur.Count = R.BufferRecords;
  int Next = 1 - L->Current;
  if (L->Buffers[Next].State != Buffer::Free && R.Cfg.DropWhenFull) {
    __atomic_fetch_add(&L->Dropped, Cur.Count - Cur.Flushed, __ATOMIC_RELAXED);
    Cur.Flushed = 0;
    scopeprof_tls.pos = Cur.Data;
    return Cur.Data;
  }
  Cur.State = Buffer::Full;
  R.Queue.emplace_back(L, L->Current);
  ensureWriter(R);
  pthread_cond_signal(&R.WriterCv);
  while (L->Buffers[Next].State != Buffer::Free && !R.ShuttingDown && R.WriterRunning)
    pthread_cond_wait(&R.FreeCv, &R.M);
  if (L->Buffers[Next].State != Buffer::Free) {
    // No writer (it failed to start, or we are past exit): overwrite rather than hang.
    scopeprof_tls.pos = Cur.Data;
    Cur.State = Buffer::Filling;
    return Cur.Data;
  }
  L->Current = Next;
  L->Buffers[Next].State = Buffer::Filling;
  scopeprof_tls.end = L->Buffers[Next].Data + R.BufferRecords;
  scopeprof_tls.pos = L->Buffers[Next].Data;
  return scopeprof_tls.pos;
}

void scopeprof_enable(void) {
  Recorder &R = recorder();
  Lock G(R.SitesM);
  R.GlobalEnabled = true;
  reevaluateSites(R);
}

void scopeprof_disable(void) {
  Recorder &R = recorder();
  Lock G(R.SitesM);
  R.GlobalEnabled = false;
  reevaluateSites(R);
}

int scopeprof_set_rules(const char *Text) {
  Recorder &R = recorder();
  scopeprof::rules::RulesError Err;
  auto Rules = scopeprof::rules::RuleSet::parse(Text ? Text : "", "<scopeprof_set_rules>", &Err);
  if (!Rules) {
    std::fprintf(stderr, "scopeprof: %s\n", Err.format().c_str());
    return -1;
  }
  Lock G(R.SitesM);
  R.Rules = std::move(Rules);
  reevaluateSites(R);
  return 0;
}

void scopeprof_flush(void) {
  Recorder &R = recorder();
  if (R.RunDir.empty())
    return;
  Lock G(R.M);
  if (R.StopWriter)
    return;
  ensureWriter(R);
  uint64_t Token = ++R.FlushRequested;
  pthread_cond_signal(&R.WriterCv);
  while (R.FlushDone < Token && R.WriterRunning)
    pthread_cond_wait(&R.FlushCv, &R.M);
}

const char *scopeprof_run_dir(void) {
  Recorder &R = recorder();
  return R.RunDir.empty() ? nullptr : R.RunDir.c_str();
}

uint64_t scopeprof_monotonic_ticks(void) { return monotonicNs(); }

void scopeprof_region_start(scopeprof_region *G) {
  if (G->running)
    return;
  Recorder &R = recorder();
  scopeprof_site *S;
  {
    Lock L(R.SitesM);
    uint64_t Id = 0xcbf29ce484222325ull;
    for (const char *P : {G->file, G->name})
      for (; P && *P; ++P)
        Id = (Id ^ static_cast<unsigned char>(*P)) * 0x100000001b3ull;
    scopeprof_site *&Slot = R.RegionSites[Id];
    if (!Slot) {
      Slot = new scopeprof_site{SCOPEPROF_SITE_NEW, 0, Id, G->name, G->file, G->line, 0, nullptr};
      registerLocked(R, Slot);
    }
    S = Slot;
  }
  if (S->state != SCOPEPROF_SITE_ON)
    return;
  G->running = 1;
  G->depth = scopeprof_tls.depth;
  G->paused_since = 0;
  G->paused_ticks = 0;
  G->index = S->index;
  G->start = scopeprof_now();
}

void scopeprof_region_pause(scopeprof_region *G) {
  if (G->running && !G->paused_since)
    G->paused_since = scopeprof_now();
}

void scopeprof_region_resume(scopeprof_region *G) {
  if (G->running && G->paused_since) {
    G->paused_ticks += scopeprof_now() - G->paused_since;
    G->paused_since = 0;
  }
}

void scopeprof_region_stop(scopeprof_region *G) {
  if (!G->running)
    return;
  uint64_t End = scopeprof_now();
  if (G->paused_since)
    G->paused_ticks += End - G->paused_since;
  G->running = 0;
  char Payload[32];
  std::memcpy(Payload, &G->index, 4);
  std::memcpy(Payload + 4, &G->depth, 4);
  std::memcpy(Payload + 8, &G->start, 8);
  std::memcpy(Payload + 16, &End, 8);
  std::memcpy(Payload + 24, &G->paused_ticks, 8);
  appendExtension(scopeprof::format::ExtRegion, Payload, sizeof(Payload));
}

} // extern "C"
