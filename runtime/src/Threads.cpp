// The producer side: each thread fills one of its two buffers of 24-byte records without locks;
// a full buffer is queued for the writer and the thread continues in the other one.
#include "Recorder.h"

#include <cstdlib>
#include <cstring>

__thread scopeprof_thread scopeprof_tls __attribute__((tls_model("initial-exec"))) = {
    nullptr, nullptr, 0, 0, 0, /* sample_countdown */ 1, 0, 0, 0, 0, 0, 0, 0};

namespace scopeprof::runtime {

__thread ThreadLog *MyLog __attribute__((tls_model("initial-exec"))) = nullptr;
__thread bool ThreadGone __attribute__((tls_model("initial-exec"))) = false;

namespace {

// Where records go when there is nowhere to write them (recording off, thread gone).
__thread scopeprof_record DiscardBuffer[64] __attribute__((tls_model("initial-exec")));

} // namespace

scopeprof_record *discard() {
  scopeprof_tls.pos = DiscardBuffer;
  scopeprof_tls.end = DiscardBuffer + 64;
  return DiscardBuffer;
}

void threadExit(void *Arg) {
  auto *L = static_cast<ThreadLog *>(Arg);
  Recorder &R = *Rec;
  {
    Lock G(R.M);
    L->Sampler.stop(); // under the lock: the writer may be switching its rate
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
  // Touched now, not by the first record on each page: a page fault inside a call's interval
  // is a stall of microseconds, and inside a sample of a throttled function it would count 64
  // times (docs/runtime.md).
  for (Buffer &B : L->Buffers) {
    B.Data = static_cast<scopeprof_record *>(std::malloc(R.BufferRecords * sizeof(scopeprof_record)));
    if (B.Data)
      std::memset(B.Data, 0, R.BufferRecords * sizeof(scopeprof_record));
  }
  trackSwitches(R, *L);
  sampleCpu(R, *L);
  L->Fd = openLogFile(R, *L);
  L->LastName = readComm("/proc/self/task/" + std::to_string(L->Tid) + "/comm");
  L->Buffers[0].State = Buffer::Filling;
  // The buffer first, then the log where the writer sees it: the writer reads up to pos.
  scopeprof_tls.end = L->Buffers[0].Data + R.BufferRecords;
  __atomic_store_n(&scopeprof_tls.pos, L->Buffers[0].Data, __ATOMIC_RELEASE);
  {
    Lock G(R.M);
    R.Threads.push_back(L);
    ensureWriter(R);
  }
  pthread_setspecific(R.ExitKey, L);
  MyLog = L;
  return L->Buffers[0].Data;
}

namespace {

/// A thread the program created tracks its switches from its start (runTrackedThread), before
/// its first call opens: the tracker waits here until the thread's log takes it, and is closed
/// by the key's destructor if the thread ends without one.
__thread SwitchTracker *PendingTracker = nullptr;
pthread_key_t PendingKey;
pthread_once_t PendingKeyOnce = PTHREAD_ONCE_INIT;

void closePending(void *P) {
  auto *T = static_cast<SwitchTracker *>(P);
  BusyGuard G;
  T->close();
  delete T;
  PendingTracker = nullptr;
}

bool tracksCpu(const Recorder &R) {
  return R.Cfg.CountCpu || __atomic_load_n(&R.RulesTrackCpu, __ATOMIC_RELAXED);
}

struct ThreadStart {
  void *(*Fn)(void *);
  void *Arg;
};

} // namespace

void trackSwitches(const Recorder &R, ThreadLog &L) {
  if (SwitchTracker *T = PendingTracker) {
    PendingTracker = nullptr;
    pthread_setspecific(PendingKey, nullptr);
    L.Switches = *T; // the descriptor and the ring are the log's now
    delete T;
    // What the ring holds so far, now: a ring that filled while nothing drained it (a thread
    // switching often before its first record) then says so with a stretch of unknown state
    // ending here, which only the calls open now overlap, never later ones.
    L.Switches.drain(L.OffCpuPending);
    return;
  }
  if (tracksCpu(R))
    L.Switches.open(R.Cfg.Verbose);
}

void sampleCpu(const Recorder &R, ThreadLog &L) {
  if (R.SamplesCpu)
    L.Sampler.start(R.Cfg.CpuSampleNs, R.Cfg.Verbose);
}

void dropPendingTracker() {
  if (SwitchTracker *T = PendingTracker) {
    PendingTracker = nullptr;
    pthread_setspecific(PendingKey, nullptr);
    T->dropInherited();
    delete T;
  }
}

void *trackedThreadStart(void *(*Fn)(void *), void *Arg) {
  BusyGuard G; // the runtime's allocation, not the program's
  if (!G)
    return nullptr;
  Recorder &R = recorder();
  if (R.RunDir.empty() || !R.GlobalEnabled || !tracksCpu(R) || foreignProcess() ||
      SwitchTracker::refused())
    return nullptr;
  pthread_once(&PendingKeyOnce, [] { pthread_key_create(&PendingKey, closePending); });
  return new ThreadStart{Fn, Arg};
}

void forgetThreadStart(void *Start) {
  BusyGuard G;
  delete static_cast<ThreadStart *>(Start);
}

void *runTrackedThread(void *Start) {
  ThreadStart S = *static_cast<ThreadStart *>(Start);
  {
    BusyGuard G;
    delete static_cast<ThreadStart *>(Start);
    auto *T = new SwitchTracker;
    if (G && T->open(recorder().Cfg.Verbose)) {
      PendingTracker = T;
      pthread_setspecific(PendingKey, T);
    } else {
      delete T;
    }
  }
  return S.Fn(S.Arg);
}

namespace {

/// Room for \p Units consecutive units in this thread's buffer (the caller holds the busy
/// guard), or null when there is none.
scopeprof_record *reserveUnits(size_t Units) {
  if (static_cast<size_t>(scopeprof_tls.end - scopeprof_tls.pos) < Units) {
    // Hand the buffer over early, padding it so nothing stale is read as records.
    for (scopeprof_record *U = scopeprof_tls.pos; U != scopeprof_tls.end; ++U) {
      *U = {fmt::FlagExt | (uint64_t{0xff} << fmt::ExtTypeShift), 0, 0};
      __atomic_store_n(&scopeprof_tls.pos, U + 1, __ATOMIC_RELEASE);
    }
    scopeprof_refill();
  }
  scopeprof_record *U = scopeprof_tls.pos;
  // A discard buffer too small for it: nowhere to write anyway.
  return static_cast<size_t>(scopeprof_tls.end - U) < Units ? nullptr : U;
}

/// The call records among \p N units: extension units (a CPU sample, a call's allocations, a
/// case ...) and their payloads are not calls.
uint64_t callsIn(const scopeprof_record *Units, size_t N) {
  uint64_t Calls = 0;
  for (size_t I = 0; I < N;) {
    uint64_t Meta = Units[I].meta;
    if (!(Meta & fmt::FlagExt)) {
      ++Calls;
      ++I;
      continue;
    }
    // A CPU sample keeps its weight (its address and stack are the units after it), a call's
    // allocations their peak, where the others keep their payload's size.
    auto Type = static_cast<uint8_t>(Meta >> fmt::ExtTypeShift);
    size_t Size = Type == fmt::ExtCpuSample
                      ? (1 + ((Meta >> fmt::ExtStackUnitsShift) & fmt::ExtStackUnitsMask)) *
                            sizeof(scopeprof_record)
                  : Type == fmt::ExtMemory ? 0
                                           : static_cast<size_t>(Meta & fmt::MetaIndexMask);
    I += 1 + (Size + sizeof(scopeprof_record) - 1) / sizeof(scopeprof_record);
  }
  return Calls;
}

} // namespace

void appendExtension(uint8_t Type, const void *Payload, uint32_t Size) {
  BusyGuard G;
  if (!G)
    return; // a signal handler interrupted the recorder: nowhere safe to write
  size_t Units = 1 + (Size + sizeof(scopeprof_record) - 1) / sizeof(scopeprof_record);
  scopeprof_record *U = reserveUnits(Units);
  if (!U)
    return;
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

scopeprof_record *scopeprof_refill(void) {
  Recorder &R = recorder();
  if (R.RunDir.empty() || ThreadGone || foreignProcess())
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
    __atomic_fetch_add(&L->Dropped, callsIn(Cur.Data + Cur.Flushed, Cur.Count - Cur.Flushed),
                       __ATOMIC_RELAXED);
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

void scopeprof_note_memory(uint64_t allocs, uint64_t bytes, uint64_t peak) {
  BusyGuard G;
  if (!G)
    return; // the call itself will be dropped too
  // The peak rides in the unit's meta, below the type (format::ExtMemoryPeakMask).
  if (peak > fmt::ExtMemoryPeakMask)
    peak = fmt::ExtMemoryPeakMask;
  if (scopeprof_record *U = reserveUnits(1)) {
    *U = {fmt::FlagExt | (uint64_t{fmt::ExtMemory} << fmt::ExtTypeShift) | peak, allocs, bytes};
    __atomic_store_n(&scopeprof_tls.pos, U + 1, __ATOMIC_RELEASE);
  }
}

void scopeprof_drop_call(void) {
  if (!MyLog && !ThreadGone && !scopeprof_tls.busy) {
    // The thread's first event: it gets its log, where the count goes.
    BusyGuard G;
    scopeprof_refill();
  }
  if (ThreadLog *L = MyLog)
    __atomic_fetch_add(&L->Dropped, 1, __ATOMIC_RELAXED);
}

} // extern "C"
