// Reading log files frame by frame; see docs/log-format.md.
#include "LogReader.h"

#include "scopeprof/LogFormat.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <set>
#include <vector>
#include <sys/stat.h>
#include <unistd.h>

namespace scopeprof::logreader {
namespace {

namespace fmt = scopeprof::format;

/// Bounds-checked little-endian cursor over one payload.
class Cursor {
public:
  Cursor(const char *Data, size_t Size) : P(Data), End(Data + Size) {}
  bool ok() const { return Ok; }
  bool atEnd() const { return P == End; }
  template <typename T> T get() {
    T V{};
    if (const char *R = raw(sizeof(T)))
      std::memcpy(&V, R, sizeof(T));
    return V;
  }
  std::string bytes(size_t N) {
    const char *R = raw(N);
    return R ? std::string(R, N) : std::string();
  }
  std::string str() { return bytes(get<uint32_t>()); }
  /// The next \p N bytes, or nullptr (and !ok()) when the payload ends first.
  const char *raw(size_t N) {
    if (static_cast<size_t>(End - P) < N) {
      Ok = false;
      P = End;
      return nullptr;
    }
    const char *R = P;
    P += N;
    return R;
  }

private:
  const char *P;
  const char *End;
  bool Ok = true;
};

bool parseHeader(const std::string &Payload, FileHeader &H) {
  Cursor C(Payload.data(), Payload.size());
  while (!C.atEnd() && C.ok()) {
    auto Key = C.get<uint16_t>();
    std::string Value = C.bytes(C.get<uint32_t>());
    if (!C.ok())
      return false;
    uint64_t N = 0;
    if (Value.size() == 8)
      std::memcpy(&N, Value.data(), 8);
    switch (Key) {
    case fmt::KeyPid: H.Pid = N; break;
    case fmt::KeyPpid: H.Ppid = N; break;
    case fmt::KeyTid: H.Tid = N; break;
    case fmt::KeyProcessName: H.ProcessName = Value; break;
    case fmt::KeyParentName: H.ParentName = Value; break;
    case fmt::KeyExe: H.Exe = Value; break;
    case fmt::KeyCmdline: {
      H.Args.clear();
      size_t Begin = 0;
      for (size_t I = 0; I <= Value.size(); ++I)
        if (I == Value.size() || Value[I] == '\0') {
          if (I > Begin || I < Value.size())
            H.Args.push_back(Value.substr(Begin, I - Begin));
          Begin = I + 1;
        }
      break;
    }
    case fmt::KeyThreadName: H.ThreadName = Value; break;
    case fmt::KeyClock: H.Clock = Value; break;
    case fmt::KeyCalibrationTicks: H.CalibrationTicks = N; break;
    case fmt::KeyCalibrationNs: H.CalibrationNs = N; break;
    case fmt::KeyTicksPerSecond: H.TicksPerSecond = N; break;
    case fmt::KeyRunId: H.RunId = Value; break;
    case fmt::KeyStartWallNs: H.StartWallNs = N; break;
    case fmt::KeyMinDurationNs: H.MinDurationNs = N; break;
    case fmt::KeyMaxDepth: H.MaxDepth = N; break;
    case fmt::KeyScopeInnerPs: H.ScopeInnerNs = static_cast<double>(N) / 1000; break;
    case fmt::KeyScopeOuterPs: H.ScopeOuterNs = static_cast<double>(N) / 1000; break;
    case fmt::KeyThrottleCalls: H.ThrottleCalls = N; break;
    case fmt::KeyThrottleNs: H.ThrottleNs = N; break;
    case fmt::KeySamplePeriod: H.SamplePeriod = N; break;
    case fmt::KeySampledExtraPs: H.SampledExtraNs = static_cast<double>(N) / 1000; break;
    case fmt::KeyRunNonce: H.RunNonce = N; break;
    case fmt::KeySwitchesSinceNs: H.SwitchesSinceNs = N; break;
    case fmt::KeyCountsMemory: H.CountsMemory = N != 0; break;
    case fmt::KeyCountedCalls: H.CountedCalls = N != 0; break;
    case fmt::KeyCpuSampleNs: H.CpuSampleNs = N; break;
    case fmt::KeyThrottledCallPs: H.ThrottledCallNs = static_cast<double>(N) / 1000; break;
    default: break; // unknown keys are for newer readers
    }
  }
  return C.ok();
}

/// Converts raw ticks to CLOCK_MONOTONIC ns. Each batch carries an anchor (ticks, ns) taken
/// when it was written. The mapping is piecewise linear through the anchors read so far: knots
/// at least 100 ms apart, then the latest anchor. Every time, a call's start and end alike, is
/// converted on the segment that holds it, whichever batch carries it: a case's start or a long
/// call's start, written a second later, lands where the calls around it did, and nesting is
/// kept. Extrapolating from each batch's own anchor at a rate measured over 10 ms multiplied
/// the anchor's error (its two clocks are read one after the other) into microseconds: a case
/// start landed before calls ahead of it. Now two times can disagree by one anchor's error at
/// most, the mapping of the last segment having moved when the next anchor came. (Reading all
/// anchors first would remove that too, but a run loaded while it is written must load as it
/// would at once: a batch is converted with what came before it.) The rate follows
/// CLOCK_MONOTONIC's own (which NTP may slew), not a fixed frequency.
class Clock {
public:
  explicit Clock(const FileHeader &H)
      : Knots{{H.CalibrationTicks, H.CalibrationNs}},
        InitialNsPerTick(H.TicksPerSecond ? 1e9 / static_cast<double>(H.TicksPerSecond) : 1.0) {}

  void anchor(uint64_t Ticks, uint64_t Ns) {
    // A damaged or out-of-order anchor says nothing about the rate.
    if (!(Ticks > latest().Ticks && Ns > latest().Ns))
      return;
    Provisional = {Ticks, Ns};
    if (Ns >= Knots.back().Ns + MinSpanNs) {
      Knots.push_back(*Provisional);
      Provisional.reset();
    }
  }
  uint64_t operator()(uint64_t T) const {
    size_t Count = count();
    if (Count == 1)
      return saturate(static_cast<double>(Knots[0].Ns) + signedDelta(T, Knots[0].Ticks) * InitialNsPerTick);
    // The segment [I-1, I] whose end is the first knot past T (the provisional one when T is
    // past every knot; the first or the last segment when T is outside them all).
    size_t I = static_cast<size_t>(
        std::upper_bound(Knots.begin(), Knots.end(), T,
                         [](uint64_t Value, const Knot &K) { return Value < K.Ticks; }) -
        Knots.begin());
    I = std::clamp<size_t>(I, 1, Count - 1);
    const Knot &A = knot(I - 1), &B = knot(I);
    double Rate = static_cast<double>(B.Ns - A.Ns) / static_cast<double>(B.Ticks - A.Ticks);
    return saturate(static_cast<double>(A.Ns) + signedDelta(T, A.Ticks) * Rate);
  }
  uint64_t duration(uint64_t Ticks) const { return saturate(static_cast<double>(Ticks) * rate()); }

  /// Times fit in a signed 64-bit integer (SQLite's); a damaged anchor must not overflow them.
  static uint64_t saturate(double Ns) {
    constexpr double Max = 9.2e18;
    return Ns > 0 ? static_cast<uint64_t>(Ns < Max ? Ns : Max) : 0;
  }

private:
  struct Knot {
    uint64_t Ticks, Ns;
  };
  static constexpr uint64_t MinSpanNs = 100'000'000;

  static double signedDelta(uint64_t T, uint64_t From) {
    return static_cast<double>(static_cast<int64_t>(T - From));
  }
  const Knot &knot(size_t I) const { return I < Knots.size() ? Knots[I] : *Provisional; }
  const Knot &latest() const { return Provisional ? *Provisional : Knots.back(); }
  size_t count() const { return Knots.size() + (Provisional ? 1 : 0); }
  /// The mean rate over all anchors: for lengths of time that are not between two converted
  /// times (a region's pauses), the steadiest estimate.
  double rate() const {
    if (count() == 1)
      return InitialNsPerTick;
    const Knot &A = Knots.front(), &B = latest();
    return static_cast<double>(B.Ns - A.Ns) / static_cast<double>(B.Ticks - A.Ticks);
  }

  std::vector<Knot> Knots; ///< strictly increasing in ticks and ns
  std::optional<Knot> Provisional;
  double InitialNsPerTick;
};

bool parseBatch(const std::string &Payload, Clock &Conv, Visitor &V, std::string &Error) {
  Cursor C(Payload.data(), Payload.size());
  auto AnchorTicks = C.get<uint64_t>();
  auto AnchorNs = C.get<uint64_t>();
  Conv.anchor(AnchorTicks, AnchorNs);
  // EntryMemory: what the next call allocated.
  uint64_t Allocs = 0, AllocBytes = 0;
  std::optional<uint64_t> Peak;
  while (C.ok() && !C.atEnd()) {
    auto Type = C.get<uint8_t>();
    switch (Type) {
    case fmt::EntrySite: {
      Site S;
      S.Index = C.get<uint32_t>();
      S.Id = C.get<uint64_t>();
      S.Line = C.get<uint32_t>();
      S.Kinds = C.get<uint32_t>();
      S.Signature = C.str();
      S.File = C.str();
      if (C.ok())
        V.site(S);
      break;
    }
    case fmt::EntryCalls: {
      auto Count = C.get<uint32_t>();
      const char *Records = C.raw(static_cast<size_t>(Count) * 24);
      for (uint32_t I = 0; Records && I < Count; ++I) {
        uint64_t R[3];
        std::memcpy(R, Records + I * 24, 24);
        Call Out;
        Out.SiteIndex = static_cast<uint32_t>(R[0] & fmt::MetaIndexMask);
        Out.Depth = static_cast<uint32_t>((R[0] >> fmt::MetaDepthShift) & fmt::MetaDepthMask);
        Out.Broken = R[0] & fmt::FlagBroken;
        Out.Sampled = R[0] & fmt::FlagSampled;
        Out.Counted = R[0] & fmt::FlagCounted;
        if (R[2] < R[1]) {
          Error = "a call ends before it starts";
          return false;
        }
        Out.StartNs = Conv(R[1]);
        Out.EndNs = std::max(Out.StartNs, Conv(R[2]));
        Out.Allocs = Allocs;
        Out.AllocBytes = AllocBytes;
        Out.PeakBytes = Peak;
        Allocs = AllocBytes = 0;
        Peak.reset();
        V.call(Out);
      }
      break;
    }
    case fmt::EntryMemory:
      Allocs = C.get<uint64_t>();
      AllocBytes = C.get<uint64_t>();
      break;
    case fmt::EntryMemoryPeak:
      Allocs = C.get<uint64_t>();
      AllocBytes = C.get<uint64_t>();
      Peak = C.get<uint64_t>();
      break;
    case fmt::EntryException: {
      std::string Type = C.str();
      std::string Message = C.str();
      if (C.ok())
        V.exception(Type, Message);
      break;
    }
    case fmt::EntryThreadName: {
      std::string Name = C.str();
      if (C.ok())
        V.threadName(Name);
      break;
    }
    case fmt::EntrySummary: {
      auto Index = C.get<uint32_t>();
      auto Calls = C.get<uint64_t>();
      auto Total = C.get<uint64_t>();
      if (C.ok())
        V.summary(Index, Calls, Total);
      break;
    }
    case fmt::EntryCpuSamples: {
      auto Count = C.get<uint32_t>();
      constexpr size_t Size = 20;
      const char *Samples = C.raw(static_cast<size_t>(Count) * Size);
      for (uint32_t I = 0; Samples && I < Count; ++I) {
        CpuSample S;
        uint64_t At;
        std::memcpy(&S.SiteIndex, Samples + I * Size, 4);
        std::memcpy(&S.RecordedIndex, Samples + I * Size + 4, 4);
        std::memcpy(&S.Weight, Samples + I * Size + 8, 4);
        std::memcpy(&At, Samples + I * Size + 12, 8);
        S.AtNs = Conv(At);
        V.cpuSample(S);
      }
      break;
    }
    case fmt::EntryCpuSamplesAt: {
      auto Count = C.get<uint32_t>();
      for (uint32_t I = 0; C.ok() && I < Count; ++I) {
        CpuSample S;
        S.SiteIndex = C.get<uint32_t>();
        S.RecordedIndex = C.get<uint32_t>();
        S.Weight = C.get<uint32_t>();
        auto At = C.get<uint64_t>();
        S.Address = C.get<uint64_t>();
        S.StackPointer = C.get<uint64_t>();
        S.FramePointer = C.get<uint64_t>();
        auto StackBytes = C.get<uint32_t>();
        const char *Stack = C.raw(StackBytes);
        if (!C.ok())
          break;
        S.Stack = std::string_view(Stack, StackBytes);
        S.AtNs = Conv(At);
        V.cpuSample(S);
      }
      break;
    }
    case fmt::EntryModule: {
      Module M;
      M.Start = C.get<uint64_t>();
      M.End = C.get<uint64_t>();
      M.Offset = C.get<uint64_t>();
      M.MtimeNs = C.get<uint64_t>();
      M.Size = C.get<uint64_t>();
      M.Path = C.str();
      if (C.ok())
        V.module(M);
      break;
    }
    case fmt::EntryDropped: {
      auto Total = C.get<uint64_t>();
      if (C.ok())
        V.dropped(Total);
      break;
    }
    case fmt::EntryThrottle: {
      auto Index = C.get<uint32_t>();
      auto Calls = C.get<uint64_t>();
      auto At = C.get<uint64_t>();
      if (C.ok())
        V.throttled(Index, Calls, Conv(At));
      break;
    }
    case fmt::EntryOffCpu: {
      auto Count = C.get<uint32_t>();
      const char *Intervals = C.raw(static_cast<size_t>(Count) * fmt::OffCpuIntervalSize);
      for (uint32_t I = 0; Intervals && I < Count; ++I) {
        const char *At = Intervals + I * fmt::OffCpuIntervalSize;
        uint64_t Out, In;
        std::memcpy(&Out, At, 8);
        std::memcpy(&In, At + 8, 8);
        auto Kind = static_cast<uint8_t>(At[16]);
        if (In < Out || Kind > fmt::OffCpuUnknown) {
          Error = In < Out ? "an off-CPU interval ends before it starts"
                           : "an off-CPU interval of unknown kind " + std::to_string(Kind);
          return false;
        }
        V.offCpu(Out, In, Kind);
      }
      break;
    }
    case fmt::EntryRegion: {
      Call Out;
      Out.Region = true;
      Out.SiteIndex = C.get<uint32_t>();
      Out.Depth = C.get<uint32_t>();
      auto Start = C.get<uint64_t>();
      auto End = C.get<uint64_t>();
      auto Paused = C.get<uint64_t>();
      if (!C.ok())
        break;
      if (End < Start || Out.Depth > fmt::MetaDepthMask) {
        Error = End < Start ? "a region ends before it starts" : "a region deeper than any call";
        return false;
      }
      Out.StartNs = Conv(Start);
      Out.EndNs = std::max(Out.StartNs, Conv(End));
      Out.PausedNs = Conv.duration(Paused);
      V.call(Out);
      break;
    }
    case fmt::EntryCase: {
      CaseRun Out;
      auto Start = C.get<uint64_t>();
      auto End = C.get<uint64_t>();
      Out.Repetition = C.get<uint32_t>();
      Out.Flags = C.get<uint32_t>();
      Out.Name = C.str();
      if (!C.ok())
        break;
      if (End < Start) {
        Error = "a case ends before it starts";
        return false;
      }
      Out.StartNs = Conv(Start);
      Out.EndNs = std::max(Out.StartNs, Conv(End));
      V.caseRun(Out);
      break;
    }
    default:
      Error = "unknown entry type " + std::to_string(Type);
      return false;
    }
  }
  if (!C.ok())
    Error = "an entry runs past the end of its batch";
  return C.ok();
}

} // namespace

namespace {

struct FdCloser {
  int Fd;
  ~FdCloser() { close(Fd); }
};

/// Reads exactly \p Size bytes at \p Offset; fewer only at the end of the file.
size_t readAt(int Fd, char *Buf, size_t Size, uint64_t Offset) {
  size_t Done = 0;
  while (Done < Size) {
    ssize_t N = pread(Fd, Buf + Done, Size - Done, static_cast<off_t>(Offset + Done));
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0)
      break;
    Done += static_cast<size_t>(N);
  }
  return Done;
}

struct FrameHeaderFields {
  uint32_t Magic = 0, Type = 0, Size = 0, Crc = 0;
};

enum class FrameStatus { Ok, Short, BadMagic, TooLong, BadCrc };

/// The frame at \p Offset of a file of \p FileSize bytes; \p Payload holds its payload when Ok.
FrameStatus readFrame(int Fd, uint64_t Offset, uint64_t FileSize, FrameHeaderFields &F,
                      std::string &Payload) {
  char Frame[fmt::FrameHeaderSize];
  if (FileSize - Offset < sizeof(Frame) || readAt(Fd, Frame, sizeof(Frame), Offset) < sizeof(Frame))
    return FrameStatus::Short;
  std::memcpy(&F.Magic, Frame, 4);
  std::memcpy(&F.Type, Frame + 4, 4);
  std::memcpy(&F.Size, Frame + 8, 4);
  std::memcpy(&F.Crc, Frame + 12, 4);
  if (F.Magic != fmt::FrameMagic)
    return FrameStatus::BadMagic;
  if (F.Size > fmt::MaxFramePayload)
    return FrameStatus::TooLong;
  if (FileSize - Offset - sizeof(Frame) < F.Size)
    return FrameStatus::Short;
  Payload.resize(F.Size);
  if (readAt(Fd, Payload.data(), F.Size, Offset + sizeof(Frame)) < F.Size)
    return FrameStatus::Short;
  return fmt::crc32c(Payload.data(), F.Size) == F.Crc ? FrameStatus::Ok : FrameStatus::BadCrc;
}

/// Whether a plausible frame header starts at \p Offset (or the file ends there): then a
/// frame's length field can be trusted to skip it.
bool frameBoundary(int Fd, uint64_t Offset, uint64_t FileSize) {
  if (Offset == FileSize)
    return true;
  char Frame[fmt::FrameHeaderSize];
  if (Offset > FileSize || readAt(Fd, Frame, sizeof(Frame), Offset) < sizeof(Frame))
    return false;
  uint32_t Magic, Size;
  std::memcpy(&Magic, Frame, 4);
  std::memcpy(&Size, Frame + 8, 4);
  return Magic == fmt::FrameMagic && Size <= fmt::MaxFramePayload;
}

/// The offset of the next frame after \p From whose header and checksum are valid, or 0.
/// A disk that filled up leaves a partial frame in the middle of a file; what follows it
/// is still good.
uint64_t findNextFrame(int Fd, uint64_t From, uint64_t FileSize) {
  char Magic[4];
  std::memcpy(Magic, &fmt::FrameMagic, 4);
  std::string Chunk, Payload;
  constexpr size_t ChunkSize = 1 << 16;
  for (uint64_t Base = From; Base + sizeof(Magic) <= FileSize; Base += ChunkSize) {
    Chunk.resize(ChunkSize + sizeof(Magic) - 1);
    Chunk.resize(readAt(Fd, Chunk.data(), Chunk.size(), Base));
    for (size_t I = 0; I + sizeof(Magic) <= Chunk.size(); ++I) {
      if (std::memcmp(Chunk.data() + I, Magic, sizeof(Magic)) != 0)
        continue;
      FrameHeaderFields F;
      if (readFrame(Fd, Base + I, FileSize, F, Payload) == FrameStatus::Ok)
        return Base + I;
    }
  }
  return 0;
}

std::string tooLong(uint32_t Size) {
  return "a frame of " + std::to_string(Size) + " bytes, more than the " +
         std::to_string(fmt::MaxFramePayload >> 20) +
         " MiB a reader accepts (written with SCOPEPROF_BUFFER_SIZE above it?)";
}

} // namespace

ReadResult readLogFile(const std::string &Path, Visitor &V) {
  ReadResult R;
  int Fd = open(Path.c_str(), O_RDONLY | O_CLOEXEC);
  if (Fd < 0) {
    R.Problems.push_back({0, std::string("cannot open: ") + std::strerror(errno), false});
    return R;
  }
  FdCloser Closer{Fd};
  struct stat St;
  if (fstat(Fd, &St) != 0) {
    R.Problems.push_back({0, std::string("cannot read: ") + std::strerror(errno), false});
    return R;
  }
  // What is there now: a run still being written grows, and its next load continues.
  auto FileSize = static_cast<uint64_t>(St.st_size);
  char Preamble[fmt::FilePreambleSize];
  size_t Got = readAt(Fd, Preamble, sizeof(Preamble), 0);
  if (Got < sizeof(fmt::FileMagic) || std::memcmp(Preamble, fmt::FileMagic, sizeof(fmt::FileMagic)) != 0) {
    R.Problems.push_back({0, "not a scopeprof log (bad magic)", false});
    return R;
  }
  if (Got < sizeof(Preamble)) {
    R.Problems.push_back({0, "torn file header", true});
    return R;
  }
  FileHeader H;
  std::memcpy(&H.Version, Preamble + 8, 4);
  if (H.Version != fmt::Version) {
    R.Problems.push_back({8, "unsupported format version " + std::to_string(H.Version) +
                                 " (this reader knows " + std::to_string(fmt::Version) + ")",
                          false});
    return R;
  }
  uint64_t Offset = sizeof(Preamble);
  std::string Payload;
  bool HaveHeader = false;
  std::unique_ptr<Clock> Conv;
  while (Offset < FileSize) {
    FrameHeaderFields F;
    FrameStatus Status = readFrame(Fd, Offset, FileSize, F, Payload);
    uint64_t FrameEnd = Offset + fmt::FrameHeaderSize + F.Size;
    if (Status == FrameStatus::BadCrc && frameBoundary(Fd, FrameEnd, FileSize)) {
      R.Problems.push_back({Offset, "corrupt batch (checksum mismatch); skipped", false});
      Offset = FrameEnd;
      continue;
    }
    if (Status == FrameStatus::TooLong && frameBoundary(Fd, FrameEnd, FileSize)) {
      R.Problems.push_back({Offset, tooLong(F.Size) + "; skipped", false});
      Offset = FrameEnd;
      continue;
    }
    if (Status != FrameStatus::Ok) {
      if (uint64_t Next = findNextFrame(Fd, Offset + 1, FileSize)) {
        std::string What = Status == FrameStatus::BadMagic ? "corrupt data"
                           : Status == FrameStatus::TooLong
                               ? tooLong(F.Size)
                               : "incomplete frame in the middle of the file (the "
                                 "disk was full?)";
        R.Problems.push_back({Offset,
                              What + ": bytes " + std::to_string(Offset) + "-" +
                                  std::to_string(Next) +
                                  " skipped, reading resumed at the next valid frame",
                              false});
        Offset = Next;
        continue;
      }
      uint64_t Left = FileSize - Offset;
      if (Status == FrameStatus::Short && Left < fmt::FrameHeaderSize)
        R.Problems.push_back({Offset,
                              "torn last batch: " + std::to_string(Left) + " of " +
                                  std::to_string(fmt::FrameHeaderSize) + " frame header bytes",
                              true});
      else if (Status == FrameStatus::Short)
        R.Problems.push_back({Offset,
                              "torn last batch: " + std::to_string(Left - fmt::FrameHeaderSize) +
                                  " of " + std::to_string(F.Size) +
                                  " bytes (the process was probably killed while "
                                  "writing)",
                              true});
      else if (Status == FrameStatus::TooLong)
        R.Problems.push_back(
            {Offset, tooLong(F.Size) + "; the rest of the file is skipped", false});
      else if (Status == FrameStatus::BadCrc)
        R.Problems.push_back({Offset,
                              "corrupt batch (checksum mismatch); the rest of the file "
                              "is skipped",
                              false});
      else
        R.Problems.push_back(
            {Offset, "corrupt frame header; the rest of the file is skipped", false});
      break;
    }
    if (F.Type == fmt::FrameHeader) {
      if (!parseHeader(Payload, H)) {
        R.Problems.push_back({Offset, "malformed file header", false});
        return R;
      }
      HaveHeader = true;
      R.Recognized = true;
      Conv = std::make_unique<Clock>(H);
      V.header(H);
    } else if (F.Type == fmt::FrameBatch && HaveHeader) {
      std::string Error;
      V.batch(Offset, FrameEnd);
      if (!parseBatch(Payload, *Conv, V, Error))
        R.Problems.push_back({Offset, "malformed batch: " + Error, false});
      ++R.Batches;
    } else {
      R.Problems.push_back(
          {Offset, "unexpected frame type " + std::to_string(F.Type) + "; skipped", false});
    }
    Offset = FrameEnd;
    R.ValidEnd = Offset;
  }
  if (!HaveHeader && R.Problems.empty())
    R.Problems.push_back({Offset, "no file header", false});
  return R;
}

std::vector<std::string> findLogFiles(const std::string &Path, std::string &Error) {
  std::vector<std::string> Out;
  struct stat St;
  if (stat(Path.c_str(), &St) != 0) {
    Error = "cannot read '" + Path + "': " + std::strerror(errno);
    return Out;
  }
  if (!S_ISDIR(St.st_mode)) {
    Out.push_back(Path);
    return Out;
  }
  // Symbolic links to directories are not followed (a link to '.' would loop), and a file
  // reached twice (hard or symbolic links, bind mounts) is read once.
  std::set<std::pair<dev_t, ino_t>> Seen = {{St.st_dev, St.st_ino}};
  std::vector<std::string> Pending = {Path};
  while (!Pending.empty()) {
    std::string Dir = Pending.back();
    Pending.pop_back();
    DIR *D = opendir(Dir.c_str());
    if (!D) {
      Error = "cannot read '" + Dir + "': " + std::strerror(errno);
      continue;
    }
    while (dirent *E = readdir(D)) {
      std::string Name = E->d_name;
      if (Name == "." || Name == "..")
        continue;
      std::string Full = Dir + "/" + Name;
      struct stat Link;
      if (lstat(Full.c_str(), &Link) != 0 || stat(Full.c_str(), &St) != 0)
        continue;
      if (S_ISDIR(St.st_mode)) {
        if (!S_ISLNK(Link.st_mode) && Seen.insert({St.st_dev, St.st_ino}).second)
          Pending.push_back(Full);
      } else if (Name.size() > 6 && Name.compare(Name.size() - 6, 6, ".splog") == 0 &&
                 Seen.insert({St.st_dev, St.st_ino}).second) {
        Out.push_back(Full);
      }
    }
    closedir(D);
  }
  std::sort(Out.begin(), Out.end());
  return Out;
}

} // namespace scopeprof::logreader
