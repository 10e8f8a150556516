// Reading log files frame by frame; see docs/log-format.md.
#include "LogReader.h"

#include "scopeprof/LogFormat.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <sys/stat.h>

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

struct FileCloser {
  void operator()(FILE *F) const { std::fclose(F); }
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
    default: break; // unknown keys are for newer readers
    }
  }
  return C.ok();
}

/// Converts raw ticks to CLOCK_MONOTONIC ns. Each batch carries an anchor (ticks, ns) taken
/// when it was written; consecutive anchors at least 10 ms apart define the slope, so the
/// mapping is continuous from batch to batch and follows CLOCK_MONOTONIC's own rate (which
/// NTP may slew) rather than a fixed frequency.
class Clock {
public:
  explicit Clock(const FileHeader &H)
      : KnotTicks(H.CalibrationTicks), KnotNs(H.CalibrationNs),
        NsPerTick(H.TicksPerSecond ? 1e9 / static_cast<double>(H.TicksPerSecond) : 1.0) {}

  void anchor(uint64_t Ticks, uint64_t Ns) {
    AnchorTicks = Ticks;
    AnchorNs = Ns;
    if (Ns >= KnotNs + MinSpanNs && Ticks > KnotTicks) {
      NsPerTick = static_cast<double>(Ns - KnotNs) / static_cast<double>(Ticks - KnotTicks);
      KnotTicks = Ticks;
      KnotNs = Ns;
    }
  }
  uint64_t operator()(uint64_t T) const {
    auto Delta = static_cast<double>(static_cast<int64_t>(T - AnchorTicks));
    return saturate(static_cast<double>(AnchorNs) + Delta * NsPerTick);
  }
  uint64_t duration(uint64_t Ticks) const { return saturate(static_cast<double>(Ticks) * NsPerTick); }

  /// Times fit in a signed 64-bit integer (SQLite's); a damaged anchor must not overflow them.
  static uint64_t saturate(double Ns) {
    constexpr double Max = 9.2e18;
    return Ns > 0 ? static_cast<uint64_t>(Ns < Max ? Ns : Max) : 0;
  }

private:
  static constexpr uint64_t MinSpanNs = 10'000'000;
  uint64_t KnotTicks, KnotNs;
  double NsPerTick;
  uint64_t AnchorTicks = 0, AnchorNs = 0;
};

bool parseBatch(const std::string &Payload, Clock &Conv, Visitor &V, std::string &Error) {
  Cursor C(Payload.data(), Payload.size());
  auto AnchorTicks = C.get<uint64_t>();
  auto AnchorNs = C.get<uint64_t>();
  Conv.anchor(AnchorTicks, AnchorNs);
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
        if (R[2] < R[1]) {
          Error = "a call ends before it starts";
          return false;
        }
        Out.StartNs = Conv(R[1]);
        Out.EndNs = Clock::saturate(static_cast<double>(Out.StartNs) +
                                    static_cast<double>(Conv.duration(R[2] - R[1])));
        V.call(Out);
      }
      break;
    }
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
      Out.EndNs = Clock::saturate(static_cast<double>(Out.StartNs) +
                                  static_cast<double>(Conv.duration(End - Start)));
      Out.PausedNs = Conv.duration(Paused);
      V.call(Out);
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

ReadResult readLogFile(const std::string &Path, Visitor &V) {
  ReadResult R;
  std::unique_ptr<FILE, FileCloser> F(std::fopen(Path.c_str(), "rb"));
  if (!F) {
    R.Problems.push_back({0, std::string("cannot open: ") + std::strerror(errno), false});
    return R;
  }
  char Preamble[fmt::FilePreambleSize];
  size_t Got = std::fread(Preamble, 1, sizeof(Preamble), F.get());
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
  for (;;) {
    char Frame[fmt::FrameHeaderSize];
    size_t N = std::fread(Frame, 1, sizeof(Frame), F.get());
    if (N == 0)
      break;
    if (N < sizeof(Frame)) {
      R.Problems.push_back({Offset, "torn last batch: " + std::to_string(N) + " of " +
                                        std::to_string(sizeof(Frame)) + " frame header bytes",
                            true});
      break;
    }
    uint32_t Magic, Type, Size, Crc;
    std::memcpy(&Magic, Frame, 4);
    std::memcpy(&Type, Frame + 4, 4);
    std::memcpy(&Size, Frame + 8, 4);
    std::memcpy(&Crc, Frame + 12, 4);
    if (Magic != fmt::FrameMagic || Size > fmt::MaxFramePayload) {
      R.Problems.push_back({Offset, "corrupt frame header; the rest of the file is skipped", false});
      break;
    }
    uint64_t FrameEnd = Offset + sizeof(Frame) + Size;
    Payload.resize(Size);
    size_t Read = std::fread(Payload.data(), 1, Size, F.get());
    if (Read < Size) {
      R.Problems.push_back({Offset, "torn last batch: " + std::to_string(Read) + " of " +
                                        std::to_string(Size) + " bytes (the process was "
                                        "probably killed while writing)",
                            true});
      break;
    }
    if (fmt::crc32c(Payload.data(), Size) != Crc) {
      R.Problems.push_back({Offset, "corrupt batch (checksum mismatch); skipped", false});
      Offset = FrameEnd;
      continue;
    }
    if (Type == fmt::FrameHeader) {
      if (!parseHeader(Payload, H)) {
        R.Problems.push_back({Offset, "malformed file header", false});
        return R;
      }
      HaveHeader = true;
      R.Recognized = true;
      Conv = std::make_unique<Clock>(H);
      V.header(H);
    } else if (Type == fmt::FrameBatch && HaveHeader) {
      std::string Error;
      V.batch(Offset, FrameEnd);
      if (!parseBatch(Payload, *Conv, V, Error))
        R.Problems.push_back({Offset, "malformed batch: " + Error, false});
      ++R.Batches;
    } else {
      R.Problems.push_back({Offset, "unexpected frame type " + std::to_string(Type) + "; skipped", false});
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
      if (stat(Full.c_str(), &St) != 0)
        continue;
      if (S_ISDIR(St.st_mode))
        Pending.push_back(Full);
      else if (Name.size() > 6 && Name.compare(Name.size() - 6, 6, ".splog") == 0)
        Out.push_back(Full);
    }
    closedir(D);
  }
  std::sort(Out.begin(), Out.end());
  return Out;
}

} // namespace scopeprof::logreader
