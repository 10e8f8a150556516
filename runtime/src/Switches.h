// A thread's context switches, from the kernel (perf_event_open): the stretches it spent off
// the CPU, from which the loader derives each call's CPU time. Nothing on the hot path.
#pragma once

#include "scopeprof/LogFormat.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace scopeprof::runtime {

struct OffCpuInterval {
  uint64_t OutNs = 0, InNs = 0; ///< CLOCK_MONOTONIC
  format::OffCpuKind Kind = format::OffCpuBlocked;
};

/// The switch records of one thread. Opened by the thread itself (a perf event follows the
/// thread that opens it); drained by the writer, one reader at a time.
class SwitchTracker {
public:
  /// Starts tracking the calling thread. False, holding nothing, when the kernel refuses
  /// (perf_event_paranoid 3, seccomp, no perf support, out of locked memory or descriptors).
  bool open(bool Verbose);
  /// Stops tracking and releases the descriptor and the ring.
  void close();
  /// In a fork child: the descriptor came along but follows the parent's thread, and the ring
  /// did not (the kernel maps it VM_DONTCOPY: its addresses are free for others in the child).
  void dropInherited();
  bool tracking() const { return Fd >= 0; }
  /// The kernel said no in a way every later thread would hear too: do not try.
  static bool refused();
  /// CLOCK_MONOTONIC ns since which switches are tracked; 0 when they are not.
  uint64_t sinceNs() const { return tracking() ? SinceNs : 0; }
  /// Whether the kernel wrote records the writer has not read yet.
  bool pending() const;
  /// Whether, at the rate seen by the last drain, the ring would fill more than half way between
  /// two periodic flushes: the writer must drain it more often, or records will be lost.
  bool busy() const { return Busy; }
  /// Appends to \p Out the intervals completed since the last drain. A stretch still open (the
  /// thread is off the CPU now) is kept for the next drain; lost records become an
  /// OffCpuUnknown interval.
  void drain(std::vector<OffCpuInterval> &Out);

private:
  void handle(uint32_t Type, uint16_t Misc, uint64_t TimeNs, std::vector<OffCpuInterval> &Out);

  int Fd = -1;
  void *Ring = nullptr;
  size_t RingBytes = 0;
  uint64_t SinceNs = 0;
  // What the last drain left open: the thread is off the CPU since OpenOutNs.
  bool Off = false;
  bool OffPreempted = false;
  uint64_t OffSinceNs = 0;
  uint64_t LastNs = 0;     ///< the last record's time: where a loss can have begun
  bool AfterLoss = false;  ///< records were lost: a switch-in next ends an interval that began
                           ///< at the loss at the latest
  bool Busy = false;
  uint64_t LastDrainNs = 0;
};

} // namespace scopeprof::runtime
