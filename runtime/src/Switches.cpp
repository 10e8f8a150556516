// Context-switch tracking: a perf event per thread reports each switch out of and back onto
// the CPU with its CLOCK_MONOTONIC time; the writer turns them into off-CPU intervals.
#include "Switches.h"

#include "Recorder.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace scopeprof::runtime {
namespace {

/// The ring's data part, in pages (a power of two): 32 KiB, about 680 switches (two 24-byte
/// records each). The writer drains every 100 ms, every 1 ms while a ring fills faster
/// (680 000 switches a second); past that the kernel counts lost records, which become an
/// interval of unknown state. A bigger ring would spend the per-user budget of locked memory
/// for perf rings (perf_event_mlock_kb, 516 KiB by default) on fewer threads.
constexpr size_t RingDataPages = 8;

/// The largest record the kernel writes to the ring: PERF_RECORD_LOST (a header, id, count and
/// the sample id); switch records take 24 bytes.
constexpr uint64_t MaxRecordBytes = 40;

/// Set once the kernel said no in a way every later thread would hear too.
bool Unavailable = false;
bool Warned = false;


} // namespace

bool SwitchTracker::refused() { return __atomic_load_n(&Unavailable, __ATOMIC_RELAXED); }

bool SwitchTracker::open(bool Verbose) {
  if (__atomic_load_n(&Unavailable, __ATOMIC_RELAXED))
    return false;
  perf_event_attr Attr;
  std::memset(&Attr, 0, sizeof(Attr));
  Attr.size = sizeof(Attr);
  Attr.type = PERF_TYPE_SOFTWARE;
  Attr.config = PERF_COUNT_SW_DUMMY; // no counting, no samples: only the side-band records
  Attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
  Attr.sample_id_all = 1; // every record ends with pid, tid and time
  Attr.context_switch = 1;
  Attr.use_clockid = 1;
  Attr.clockid = CLOCK_MONOTONIC; // the clock the call records are converted to
  // What an unprivileged user may ask for under perf_event_paranoid 2.
  Attr.exclude_kernel = 1;
  Attr.exclude_hv = 1;
  int NewFd = static_cast<int>(syscall(SYS_perf_event_open, &Attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
  if (NewFd < 0) {
    int Error = errno;
    // Out of descriptors may pass; a refusal by policy or kernel holds for every thread.
    if (Error != EMFILE && Error != ENFILE && Error != ENOMEM)
      __atomic_store_n(&Unavailable, true, __ATOMIC_RELAXED);
    warnOnceIfVerbose(Verbose, Warned, std::string("cannot track context switches (perf_event_open: ") +
                             std::strerror(Error) +
                             "; see /proc/sys/kernel/perf_event_paranoid): no CPU time is "
                             "measured; SCOPEPROF_COUNTERS=none stops trying");
    return false;
  }
  size_t Page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t Bytes = (1 + RingDataPages) * Page;
  void *Map = mmap(nullptr, Bytes, PROT_READ | PROT_WRITE, MAP_SHARED, NewFd, 0);
  if (Map == MAP_FAILED) {
    // Usually the per-user budget of locked memory for perf rings (perf_event_mlock_kb,
    // RLIMIT_MEMLOCK): later threads may fare no better, but earlier ones keep theirs.
    warnOnceIfVerbose(Verbose, Warned, std::string("cannot map a context-switch ring (") + std::strerror(errno) +
                             "; perf_event_mlock_kb or RLIMIT_MEMLOCK reached?): threads from "
                             "now on have no CPU time measured");
    ::close(NewFd);
    return false;
  }
  Fd = NewFd;
  Ring = Map;
  RingBytes = Bytes;
  Off = AfterLoss = false;
  // The ring exists only now, and the thread is running: from here on nothing goes unseen.
  SinceNs = LastNs = LastDrainNs = monotonicNs();
  return true;
}

void SwitchTracker::close() {
  if (Ring)
    munmap(Ring, RingBytes);
  if (Fd >= 0)
    ::close(Fd);
  Fd = -1;
  Ring = nullptr;
  RingBytes = 0;
}

void SwitchTracker::dropInherited() {
  if (Fd >= 0)
    ::close(Fd);
  Fd = -1;
  Ring = nullptr;
  RingBytes = 0;
}

bool SwitchTracker::pending() const {
  if (!Ring)
    return false;
  auto *Meta = static_cast<const perf_event_mmap_page *>(Ring);
  return __atomic_load_n(&Meta->data_head, __ATOMIC_ACQUIRE) != Meta->data_tail;
}

void SwitchTracker::handle(uint32_t Type, uint16_t Misc, uint64_t TimeNs,
                           std::vector<OffCpuInterval> &Out) {
  if (Type == PERF_RECORD_LOST) {
    // Whatever happened between the last record seen and this one is unknown; an interval
    // that was open then ends somewhere inside it.
    Out.push_back({LastNs, TimeNs, format::OffCpuUnknown});
    Off = false;
    AfterLoss = true;
    LastNs = TimeNs;
    return;
  }
  if (Type != PERF_RECORD_SWITCH)
    return;
  if (Misc & PERF_RECORD_MISC_SWITCH_OUT) {
    Off = true;
    OffPreempted = Misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT;
    OffSinceNs = TimeNs;
  } else if (Off) {
    Out.push_back({OffSinceNs, TimeNs, OffPreempted ? format::OffCpuPreempted : format::OffCpuBlocked});
    Off = false;
  } else if (AfterLoss) {
    // Back on the CPU with its switch-out lost: a switch-out after the loss would have been
    // seen, so the thread was off since the loss at the latest.
    Out.push_back({LastNs, TimeNs, format::OffCpuBlocked});
  }
  if (!(Misc & PERF_RECORD_MISC_SWITCH_OUT))
    AfterLoss = false;
  LastNs = TimeNs;
}

void SwitchTracker::drain(std::vector<OffCpuInterval> &Out) {
  if (!Ring)
    return;
  auto *Meta = static_cast<perf_event_mmap_page *>(Ring);
  size_t Page = RingBytes / (1 + RingDataPages);
  const char *Data = static_cast<const char *>(Ring) + (Meta->data_offset ? Meta->data_offset : Page);
  uint64_t Size = Meta->data_size ? Meta->data_size : RingDataPages * Page;
  uint64_t Head = __atomic_load_n(&Meta->data_head, __ATOMIC_ACQUIRE);
  uint64_t Tail = Meta->data_tail;
  uint64_t NowNs = monotonicNs();
  // A full ring may have dropped records that the kernel reports (PERF_RECORD_LOST) only once
  // there is room again, after this drain: by then the calls of this batch would have been
  // measured as if nothing was missing. So a full ring is taken for a loss right now.
  bool MayHaveLost = Size - (Head - Tail) < MaxRecordBytes;
  double Rate = static_cast<double>(Head - Tail) / static_cast<double>(std::max<uint64_t>(NowNs - LastDrainNs, 1));
  Busy = Rate * PeriodicFlushNs > static_cast<double>(Size) / 2;
  LastDrainNs = NowNs;
  // Records may wrap around the ring's end: each is copied out whole first.
  auto copyOut = [&](uint64_t From, void *To, size_t Bytes) {
    size_t At = static_cast<size_t>(From % Size);
    size_t First = std::min<size_t>(Bytes, static_cast<size_t>(Size) - At);
    std::memcpy(To, Data + At, First);
    std::memcpy(static_cast<char *>(To) + First, Data, Bytes - First);
  };
  while (Head - Tail >= sizeof(perf_event_header)) {
    perf_event_header H;
    copyOut(Tail, &H, sizeof(H));
    if (H.size < sizeof(H) || H.size > Head - Tail)
      break; // cannot happen with a sane kernel; never read past what it published
    // Every record ends with the sample id: u32 pid, u32 tid, u64 time.
    if (H.size >= sizeof(H) + 16) {
      uint64_t TimeNs;
      copyOut(Tail + H.size - 8, &TimeNs, 8);
      handle(H.type, H.misc, TimeNs, Out);
    }
    Tail += H.size;
  }
  __atomic_store_n(&Meta->data_tail, Head, __ATOMIC_RELEASE);
  if (MayHaveLost)
    handle(PERF_RECORD_LOST, 0, NowNs, Out);
}

} // namespace scopeprof::runtime
