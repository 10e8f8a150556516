// The on-disk log format shared by the runtime (writer) and the reader; see docs/log-format.md.
#pragma once

#include <cstddef>
#include <cstdint>

namespace scopeprof::format {

constexpr char FileMagic[8] = {'S', 'C', 'O', 'P', 'E', 'P', 'R', 'F'};
constexpr uint32_t Version = 1;
constexpr size_t FilePreambleSize = 16; // magic, u32 version, u32 reserved

constexpr uint32_t FrameMagic = 0x52465053; // "SPFR" little-endian
constexpr size_t FrameHeaderSize = 16;      // magic, type, payload length, crc32(payload)
constexpr uint32_t MaxFramePayload = 64u << 20;

enum FrameType : uint32_t { FrameHeader = 1, FrameBatch = 2 };

/// Keys of the header frame's TLV entries: u16 key, u32 length, bytes. Integers are u64 LE.
enum HeaderKey : uint16_t {
  KeyPid = 1,
  KeyPpid = 2,
  KeyTid = 3,
  KeyProcessName = 4,
  KeyParentName = 5,
  KeyExe = 6,
  KeyCmdline = 7, ///< arguments separated by NUL
  KeyThreadName = 8,
  KeyClock = 9, ///< "tsc" or "monotonic"
  KeyCalibrationTicks = 10,
  KeyCalibrationNs = 11,
  KeyTicksPerSecond = 12,
  KeyRunId = 13,
  KeyStartWallNs = 14,
  KeyMinDurationNs = 15,
  KeyMaxDepth = 16,
  /// The process's own cost per recorded call, measured at start, in picoseconds: the part that
  /// falls inside the call's own interval, and the whole cost as its parent sees it.
  KeyScopeInnerPs = 17,
  KeyScopeOuterPs = 18,
  KeyThrottleCalls = 19, ///< SCOPEPROF_THROTTLE: calls before a site is judged (0: off)
  KeyThrottleNs = 20,    ///< SCOPEPROF_THROTTLE: the mean duration under which it is cut
  KeyRunNonce = 21,      ///< random, the same for every process of a run: tells apart runs
                         ///< whose directories have the same name
  /// CLOCK_MONOTONIC ns since which the thread's context switches are tracked (EntryOffCpu).
  /// Absent or 0: not tracked, so "no off-CPU interval" means nothing.
  KeySwitchesSinceNs = 22,
  /// A throttled site's calls are sampled one in this many, on average. 0 (or absent): none is
  /// recorded after the cut (SCOPEPROF_THROTTLE's `off`; its time is in the CPU samples).
  KeySamplePeriod = 23,
  KeySampledExtraPs = 24, ///< picoseconds a sample costs inside its interval beyond KeyScopeInnerPs
  /// 1: the thread's allocations were counted (SCOPEPROF_COUNTERS=memory): a call with no
  /// EntryMemory before it allocated nothing. Absent or 0: not counted.
  KeyCountsMemory = 25,
  /// 1: only the calls with FlagCounted had their allocations counted (per-site `counters` rules;
  /// KeyCountsMemory then says whether the process counted any). Absent: every call of a
  /// KeyCountsMemory thread was.
  KeyCountedCalls = 26,
  /// SCOPEPROF_CPU_SAMPLES: the thread's CPU time between two EntryCpuSamples samples, in ns.
  /// Absent or 0: the thread was not sampled.
  KeyCpuSampleNs = 27,
  /// Picoseconds a call of a sampled throttled site costs on average, measured at start.
  KeyThrottledCallPs = 28,
};

/// Entries of a batch frame's payload, after its u64 anchor ticks and u64 anchor ns.
enum EntryType : uint8_t {
  EntrySite = 1,       ///< u32 index, u64 id, u32 line, u32 kinds, u32 len + signature, u32 len + file
  EntryCalls = 2,      ///< u32 count, count x 24-byte records (meta, start ticks, end ticks)
  EntryException = 3,  ///< u32 len + type, u32 len + message: for the broken calls that follow
  EntryThreadName = 4, ///< u32 len + name
  EntrySummary = 5,    ///< u32 index, u64 calls, u64 total ns: cumulative, calls not written one by one
  EntryDropped = 6,    ///< u64 cumulative calls dropped under SCOPEPROF_ON_FULL=drop
  EntryRegion = 7,     ///< u32 index, u32 depth, u64 start ticks, u64 end ticks, u64 paused ticks
  EntryThrottle = 8,   ///< u32 index, u64 calls seen, u64 cut ticks: of the calls of the site
                       ///< starting at or after the cut, only samples (FlagSampled) are recorded,
                       ///< if any (KeySamplePeriod)
  EntryOffCpu = 9,     ///< u32 count, count x (u64 switch-out ns, u64 switch-in ns, u8 OffCpuKind):
                       ///< the thread's stretches off the CPU, CLOCK_MONOTONIC, in time order
  EntryMemory = 10,    ///< u64 allocations, u64 bytes: of the next call record (inclusive)
  EntryMemoryPeak = 12, ///< u64 allocations, u64 bytes, u64 peak live bytes above the start: of
                        ///< the next call record (inclusive)
  EntryCase = 11,      ///< u64 start ticks, u64 end ticks, u32 repetition, u32 CaseFlags,
                       ///< u32 len + name: a profile case ran; the process's calls that start
                       ///< inside it are its calls
  EntryCpuSamples = 13, ///< u32 count, count x (u32 site index, u32 recorded site index, u32
                        ///< weight, u64 ticks): at each sample of the thread's CPU time, the
                        ///< site of its innermost open call, and of its innermost recorded call
                        ///< (NoSite: none); weight: the periods it stands for (a timer's overruns)
  EntryModule = 14,     ///< u64 start, u64 end, u64 file offset, u64 mtime ns, u64 size, u32 len
                        ///< + path: an executable mapping of the process (/proc/self/maps) and
                        ///< the file it maps as it was then; each mapping known is described in a
                        ///< file before its next EntryCpuSamplesAt
  EntryCpuSamplesAt = 15, ///< as EntryCpuSamples, each sample followed by u64 address (the
                          ///< instruction the sample interrupted; 0: not known), u64 stack
                          ///< pointer, u64 frame pointer, u32 len + the stack's bytes from the
                          ///< stack pointer up (for unwinding; may be empty)
};

/// Bits of an EntryCase's flags.
enum CaseFlags : uint32_t {
  CaseWarmup = 1, ///< a warm-up repetition: reports leave it out
  CaseFailed = 2, ///< the case threw (the runner) or the test failed (the GoogleTest listener)
};
/// A case name is cut to this many bytes: an extension unit must fit a thread's discard buffer.
constexpr uint32_t MaxCaseName = 1024;

/// What an EntryOffCpu interval is.
enum OffCpuKind : uint8_t {
  OffCpuBlocked = 0,   ///< the thread gave up the CPU: it slept or waited
  OffCpuPreempted = 1, ///< the scheduler took the CPU from the runnable thread
  OffCpuUnknown = 2,   ///< the kernel lost switch records, or may have (the ring was full):
                       ///< nothing is known about this stretch
};
constexpr size_t OffCpuIntervalSize = 17;

constexpr uint64_t MetaIndexMask = 0xffffffffull;
constexpr unsigned MetaDepthShift = 32;
constexpr uint64_t MetaDepthMask = 0xffffull;
constexpr uint64_t FlagBroken = 1ull << 48;
constexpr uint64_t FlagSampled = 1ull << 50; ///< stands for KeySamplePeriod calls of its site
constexpr uint64_t FlagCounted = 1ull << 51; ///< the call's allocations were counted (KeyCountedCalls)
constexpr uint32_t SamplePeriod = 64;
constexpr uint64_t FlagExt = 1ull << 63;
constexpr unsigned ExtTypeShift = 40; // in an extension unit's meta; low 32 bits: payload bytes
constexpr uint64_t ExtMemoryPeakMask = (1ull << ExtTypeShift) - 1;
constexpr unsigned ExtStackUnitsShift = 32;
constexpr uint64_t ExtStackUnitsMask = 0xff;
/// What a CPU sample copies of the stack above the interrupted frame, at most: enough to unwind
/// out of the uninstrumented code it interrupted (operator new, a libc call) to its caller.
/// 2 KiB did not reach past `sscanf`'s frames (2.2 KiB) to tinyxml2's `ToInt`.
constexpr uint64_t MaxSampleStackBytes = 4080;
/// An EntryCpuSamples sample taken outside every recorded call.
constexpr uint32_t NoSite = 0xffffffffu;

/// ExtMemory has no payload: its start and end fields are the allocations and bytes of the call
/// record that follows it, and the low 40 bits of its meta the call's peak live bytes.
/// ExtCpuSample's meta's low 32 bits are its weight (see EntryCpuSamples), bits 32-39 the
/// number of stack units at its end; the unit after it holds the interrupted instruction's
/// address and the stack and frame pointers then (0: not known), then come the stack's bytes
/// from the stack pointer up.
/// ExtCase's payload is EntryCase's fields with the name's bytes last, unprefixed.
enum ExtType : uint8_t {
  ExtException = 1,
  ExtRegion = 2,
  ExtThreadName = 3,
  ExtMemory = 4,
  ExtCase = 5,
  ExtCpuSample = 6, ///< the weight in the meta's low bits, start the time, end the thread's
                    ///< marks (scopeprof_thread::open_mark in bits 0-31, recorded_mark in bits
                    ///< 32-63); then the unit of the address
};

/// CRC-32C (Castagnoli): the SSE4.2 instruction where the CPU has it (the writer checks about
/// 1 GB/s of records at full speed), a table otherwise.
namespace detail {
inline uint32_t crc32cTable(const unsigned char *P, size_t Size, uint32_t Crc) {
  static const auto Table = [] {
    struct T {
      uint32_t V[256];
    } Tab{};
    for (uint32_t I = 0; I < 256; ++I) {
      uint32_t C = I;
      for (int K = 0; K < 8; ++K)
        C = (C & 1) ? 0x82F63B78u ^ (C >> 1) : C >> 1;
      Tab.V[I] = C;
    }
    return Tab;
  }();
  for (size_t I = 0; I < Size; ++I)
    Crc = Table.V[(Crc ^ P[I]) & 0xFF] ^ (Crc >> 8);
  return Crc;
}
#if defined(__x86_64__)
__attribute__((target("sse4.2"))) inline uint32_t crc32cHardware(const unsigned char *P, size_t Size,
                                                                  uint32_t Crc) {
  uint64_t C = Crc;
  for (; Size >= 8; P += 8, Size -= 8) {
    uint64_t V;
    __builtin_memcpy(&V, P, 8);
    C = __builtin_ia32_crc32di(C, V);
  }
  uint32_t C32 = static_cast<uint32_t>(C);
  for (; Size > 0; ++P, --Size)
    C32 = __builtin_ia32_crc32qi(C32, *P);
  return C32;
}
#endif
} // namespace detail

inline uint32_t crc32c(const void *Data, size_t Size, uint32_t Crc = 0) {
  const auto *P = static_cast<const unsigned char *>(Data);
  Crc = ~Crc;
#if defined(__x86_64__)
  // __builtin_cpu_init: we may run in a constructor, before libgcc has looked at the CPU.
  static const bool Hardware = (__builtin_cpu_init(), __builtin_cpu_supports("sse4.2"));
  if (Hardware)
    return ~detail::crc32cHardware(P, Size, Crc);
#endif
  return ~detail::crc32cTable(P, Size, Crc);
}

} // namespace scopeprof::format
