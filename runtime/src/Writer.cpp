// The writer thread: writes full buffers as they are queued, and every ~100 ms (or on flush)
// what running threads have recorded so far; closes the logs of exited threads.
#include "Recorder.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <unistd.h>

namespace scopeprof::runtime {

/// Once samples decide, every running thread samples at the full rate from now on, not from its
/// next sample (CpuSampler::switchToFullRate): called after each batch, whose records may have
/// cut a function off. Holds M: an exiting thread stops its sampler under it.
void switchSamplers(Recorder &R) {
  if (!samplesDecided())
    return;
  for (ThreadLog *L : R.Threads)
    if (L->Owner)
      L->Sampler.switchToFullRate();
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
    switchSamplers(R);
    B.State = Buffer::Free;
    B.Flushed = 0;
    B.Count = 0;
    pthread_cond_broadcast(&R.FreeCv);
  }
}

/// Writes what running threads recorded since the last flush. Holds M on entry and exit;
/// records are copied under the lock because their owner keeps appending. A thread's queued
/// buffers are older than the one it fills, so the queue is drained first.
void flushRunningThreads(Recorder &R) {
  std::vector<scopeprof_record> &Scratch = R.FlushScratch;
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
    // A thread that only waited has no new calls, but its switches are written all the same:
    // its ring must not overflow while calls that span the waits are still open.
    if (Upto <= B.Flushed && !L->Switches.pending())
      continue;
    Scratch.assign(B.Data + B.Flushed, B.Data + Upto);
    B.Flushed = Upto;
    pthread_mutex_unlock(&R.M);
    writeBatch(R, *L, Scratch.data(), Scratch.size());
    pthread_mutex_lock(&R.M);
    switchSamplers(R);
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
    R.DroppedUnrecorded += __atomic_load_n(&L->Dropped, __ATOMIC_RELAXED) - L->DroppedWritten;
    if (L->Fd >= 0)
      close(L->Fd);
    L->Switches.close();
    free(L->Buffers[0].Data);
    free(L->Buffers[1].Data);
    R.Threads.erase(R.Threads.begin() + static_cast<ptrdiff_t>(I));
    delete L;
  }
}

void *writerMain(void *) {
  Recorder &R = *Rec;
  pthread_mutex_lock(&R.M);
  for (;;) {
    if (R.Queue.empty() && !R.StopWriter && R.FlushRequested == R.FlushDone) {
      timespec Deadline;
      clock_gettime(CLOCK_REALTIME, &Deadline);
      Deadline.tv_nsec += static_cast<long>(R.FlushPeriodNs);
      Deadline.tv_sec += Deadline.tv_nsec / 1'000'000'000;
      Deadline.tv_nsec %= 1'000'000'000;
      pthread_cond_timedwait(&R.WriterCv, &R.M, &Deadline);
    }
    drainQueue(R);
    uint64_t Requested = R.FlushRequested;
    bool Stop = R.StopWriter;
    if (Stop || Requested != R.FlushDone || monotonicNs() - R.LastPeriodicNs >= R.FlushPeriodNs) {
      flushRunningThreads(R);
      bool SwitchesBusy = std::any_of(R.Threads.begin(), R.Threads.end(),
                                      [](const ThreadLog *L) { return L->Switches.busy(); });
      R.FlushPeriodNs = SwitchesBusy ? BusySwitchesFlushNs : PeriodicFlushNs;
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
  R.WriterRunning = createOwnThread(&R.Writer, nullptr, writerMain, nullptr) == 0;
  pthread_sigmask(SIG_SETMASK, &Old, nullptr);
}

} // namespace scopeprof::runtime

using namespace scopeprof::runtime;

extern "C" {

void scopeprof_flush(void) {
  BusyGuard Busy;
  Recorder &R = recorder();
  if (!Busy || R.RunDir.empty() || foreignProcess())
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

} // extern "C"
