// The CPU-time sampler (Sampler.h). The handler only appends a unit to the thread's buffer when
// there is room and the thread is not inside the recorder: it never refills, locks or allocates.
#include "Sampler.h"

#include "Recorder.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <unistd.h>

namespace scopeprof::runtime {
namespace {

/// SIGURG: its default action is to ignore it, so a program that resets every handler to the
/// default (a daemon at start, a child before exec) loses samples, not its life, as it would to
/// SIGPROF or a real-time signal. Programs seldom use it (out-of-band socket data); profilers of
/// the SIGPROF kind (gperftools, setitimer) keep theirs.
int sampleSignal() { return SIGURG; }

bool Warned = false;

constexpr uint32_t UndecidedFactor = 8;
bool Decide = false; ///< samplesDecide() was called (atomic)
/// The calling thread's sampler, for the handler.
__thread CpuSampler *ThreadSampler __attribute__((tls_model("initial-exec"))) = nullptr;

/// Where the signal interrupted the thread: the instruction, the stack and frame pointers (0
/// where this architecture's are not read here).
struct Interrupted {
  uint64_t Pc = 0, Sp = 0, Fp = 0;
};
Interrupted interruptedAt(const void *Context) {
  const auto *C = static_cast<const ucontext_t *>(Context);
#if defined(__x86_64__)
  return {static_cast<uint64_t>(C->uc_mcontext.gregs[REG_RIP]),
          static_cast<uint64_t>(C->uc_mcontext.gregs[REG_RSP]),
          static_cast<uint64_t>(C->uc_mcontext.gregs[REG_RBP])};
#elif defined(__aarch64__)
  return {C->uc_mcontext.pc, C->uc_mcontext.sp, C->uc_mcontext.regs[29]};
#else
  (void)C;
  return {};
#endif
}

/// Copies \p Words words of the thread's own stack, from \p Sp up. Not memcpy: AddressSanitizer
/// checks the whole range of a memcpy and finds the interrupted frames' redzones in it (a
/// sanitized program would stop at its first sample); volatile reads keep the compiler from
/// turning the loop back into one.
__attribute__((no_sanitize("address"))) void copyStack(scopeprof_record *To, uint64_t Sp,
                                                       uint64_t Words) {
  const volatile uint64_t *From = reinterpret_cast<const volatile uint64_t *>(Sp);
  auto *Out = reinterpret_cast<uint64_t *>(To);
  for (uint64_t I = 0; I < Words; ++I)
    Out[I] = From[I];
}

void onSample(int, siginfo_t *Info, void *Context) {
  CpuSampler *Sampler = ThreadSampler;
  // Only the thread's own timer: not a SIGURG of out-of-band socket data or kill(), nor one in
  // flight as the sampler stopped.
  if (!Sampler || !Sampler->sentThis(*Info))
    return;
  int SavedErrno = errno; // the switch to the full rate makes a system call
  uint32_t Periods = Sampler->takeSample();
  errno = SavedErrno;
  scopeprof_thread &T = scopeprof_tls;
  // Inside the recorder: its own cost, nobody's. Outside every recorded call, the sample is
  // still taken: a throttled function's calls mark nothing, and the loader finds them by address.
  if (T.busy)
    return;
  uint64_t Marks = T.open_mark | (uint64_t{T.recorded_mark} << 32);
  // A POSIX timer's overruns: the samples that fell due before this signal was delivered.
  uint32_t Weight = Periods;
  if (Info->si_code == SI_TIMER && Info->si_overrun > 0)
    Weight += static_cast<uint32_t>(Info->si_overrun) * Periods;
  T.busy = 1;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  scopeprof_record *U = T.pos;
  // Full: this sample is lost rather than the buffer handed over from here. Its units are
  // published at once, so a flush never takes one without the others. The stack above the
  // interrupted frame goes along where there is room: the loader unwinds it when the address
  // is in code no instrumented function owns (a callee's initializer calling operator new).
  Interrupted At = interruptedAt(Context);
  if (T.end - U >= 2) {
    uint64_t StackUnits = Sampler->stackUnits(At.Sp);
    if (T.end - U < static_cast<ptrdiff_t>(2 + StackUnits))
      StackUnits = 0;
    U[0] = {fmt::FlagExt | (uint64_t{fmt::ExtCpuSample} << fmt::ExtTypeShift) |
                (StackUnits << fmt::ExtStackUnitsShift) | Weight,
            scopeprof_now(), Marks};
    U[1] = {At.Pc, At.Sp, At.Fp};
    copyStack(U + 2, At.Sp, StackUnits * sizeof(scopeprof_record) / sizeof(uint64_t));
    __atomic_store_n(&T.pos, U + 2 + StackUnits, __ATOMIC_RELEASE);
  }
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  T.busy = 0;
}

} // namespace

void samplesDecide() { __atomic_store_n(&Decide, true, __ATOMIC_RELAXED); }

bool samplesDecided() { return __atomic_load_n(&Decide, __ATOMIC_RELAXED); }

bool installSampleHandler(bool Verbose) {
  struct sigaction Old;
  if (sigaction(sampleSignal(), nullptr, &Old) == 0 &&
      (Old.sa_flags & SA_SIGINFO ? Old.sa_sigaction != nullptr
                                 : Old.sa_handler != SIG_DFL && Old.sa_handler != SIG_IGN)) {
    warnOnceIfVerbose(Verbose, Warned, "signal " + std::to_string(sampleSignal()) +
                             " has a handler already: no CPU samples are taken");
    return false;
  }
  struct sigaction Action;
  std::memset(&Action, 0, sizeof(Action));
  Action.sa_sigaction = onSample;
  // SA_RESTART: a sample arrives only while the thread runs, but it may be on its way into a
  // system call; that call resumes instead of failing with EINTR.
  Action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&Action.sa_mask);
  return sigaction(sampleSignal(), &Action, nullptr) == 0;
}

uint64_t CpuSampler::stackUnits(uint64_t Sp) const {
  if (Sp < StackLow || Sp >= StackHigh)
    return 0; // on an alternate signal stack, or bounds unknown
  return std::min<uint64_t>(StackHigh - Sp, fmt::MaxSampleStackBytes) / sizeof(scopeprof_record);
}

void CpuSampler::findStack() {
  // For the handler's copy: only what lies above the interrupted frame and below the stack's
  // end, all mapped.
  pthread_attr_t Attr;
  if (pthread_getattr_np(pthread_self(), &Attr) != 0)
    return;
  void *Low;
  size_t Size;
  if (pthread_attr_getstack(&Attr, &Low, &Size) == 0) {
    StackLow = reinterpret_cast<uint64_t>(Low);
    StackHigh = StackLow + Size;
  }
  pthread_attr_destroy(&Attr);
}

bool CpuSampler::start(uint64_t Period, bool Verbose) {
  stop();
  PeriodNs = Period;
  findStack();
  uint32_t Start = __atomic_load_n(&Decide, __ATOMIC_RELAXED) ? 1 : UndecidedFactor;
  Switched = Start == 1; // not visible to the writer yet (attachThread)
  auto Tid = static_cast<pid_t>(syscall(SYS_gettid));
  perf_event_attr Attr;
  std::memset(&Attr, 0, sizeof(Attr));
  Attr.size = sizeof(Attr);
  Attr.type = PERF_TYPE_SOFTWARE;
  Attr.config = PERF_COUNT_SW_TASK_CLOCK;
  Attr.sample_period = Period * Start;
  // System time too: a function's system calls are its CPU time, and perf's cpu-clock charges
  // them to it (leveldb's WriteUnbuffered is mostly write(2): user time alone gave it 19% of
  // the profile where perf found 34%). The signal waits for the return to user space, where the
  // marks are still those of the call that entered the kernel. Where the kernel refuses it (an
  // unprivileged user under perf_event_paranoid 2), the POSIX timer below counts both as well.
  Attr.exclude_hv = 1;
  Fd = static_cast<int>(syscall(SYS_perf_event_open, &Attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
  if (Fd >= 0) {
    // No ring: each overflow signals the thread itself.
    f_owner_ex Owner{F_OWNER_TID, Tid};
    if (fcntl(Fd, F_SETSIG, sampleSignal()) == 0 && fcntl(Fd, F_SETOWN_EX, &Owner) == 0 &&
        fcntl(Fd, F_SETFL, fcntl(Fd, F_GETFL) | O_ASYNC) == 0) {
      Factor = Start;
      ThreadSampler = this;
      return Running = true;
    }
    close(Fd);
    Fd = -1;
  }
  sigevent Event;
  std::memset(&Event, 0, sizeof(Event));
  Event.sigev_notify = SIGEV_THREAD_ID;
  Event.sigev_signo = sampleSignal();
  Event._sigev_un._tid = Tid;
  if (timer_create(CLOCK_THREAD_CPUTIME_ID, &Event, &Timer) != 0) {
    warnOnceIfVerbose(Verbose, Warned, std::string("cannot sample CPU time (") + std::strerror(errno) +
                             "): throttled functions keep the times of their recorded calls");
    return false;
  }
  HasTimer = true;
  if (!arm(Start)) {
    stop();
    return false;
  }
  ThreadSampler = this;
  return Running = true;
}

bool CpuSampler::arm(uint32_t Periods) {
  uint64_t Ns = PeriodNs * Periods;
  bool Armed;
  if (Fd >= 0) {
    Armed = ioctl(Fd, PERF_EVENT_IOC_PERIOD, &Ns) == 0;
  } else {
    itimerspec Spec;
    Spec.it_interval.tv_sec = static_cast<time_t>(Ns / 1'000'000'000);
    Spec.it_interval.tv_nsec = static_cast<long>(Ns % 1'000'000'000);
    Spec.it_value = Spec.it_interval;
    Armed = timer_settime(Timer, 0, &Spec, nullptr) == 0;
  }
  if (Armed)
    __atomic_store_n(&Factor, Periods, __ATOMIC_RELAXED);
  return Armed;
}

bool CpuSampler::sentThis(const siginfo_t &Info) const {
  // A perf event's overflow comes as SIGIO does (F_SETSIG): from the kernel, naming its fd.
  return HasTimer ? Info.si_code == SI_TIMER : Info.si_code > 0 && Info.si_fd == Fd;
}

uint32_t CpuSampler::takeSample() {
  uint32_t Periods = __atomic_load_n(&Factor, __ATOMIC_RELAXED);
  if (Periods > 1 && __atomic_load_n(&Decide, __ATOMIC_RELAXED))
    switchToFullRate();
  return Periods;
}

void CpuSampler::switchToFullRate() {
  // Once, by the writer or the thread's handler, whichever comes first: a kernel that refuses
  // the new period keeps the old one, and the weight says so.
  if (Running && !__atomic_exchange_n(&Switched, true, __ATOMIC_ACQ_REL))
    arm(1);
}

void CpuSampler::stop() {
  // The handler lets go first: a signal still pending must not touch a deleted timer.
  if (ThreadSampler == this)
    ThreadSampler = nullptr;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (HasTimer)
    timer_delete(Timer);
  dropInherited();
}

void CpuSampler::dropInherited() {
  if (ThreadSampler == this)
    ThreadSampler = nullptr;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (Fd >= 0)
    close(Fd);
  Fd = -1;
  HasTimer = Running = Switched = false;
  Factor = 1;
}

} // namespace scopeprof::runtime
