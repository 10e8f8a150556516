// Log files: the header frame of each thread's file, and the batches the writer appends, built
// from a thread's records (descriptors of new sites, calls, summaries of filtered calls).
#include "Live.h"
#include "Recorder.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace scopeprof::runtime {

namespace {

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

/// Frames are built in place: 16 bytes reserved at \p FrameStart, then the payload.
void beginFrame(std::string &Out) { Out.append(fmt::FrameHeaderSize, '\0'); }

void endFrame(std::string &Out, size_t FrameStart, uint32_t Type) {
  size_t PayloadStart = FrameStart + fmt::FrameHeaderSize;
  uint32_t Header[4] = {fmt::FrameMagic, Type, static_cast<uint32_t>(Out.size() - PayloadStart),
                        fmt::crc32c(Out.data() + PayloadStart, Out.size() - PayloadStart)};
  std::memcpy(&Out[FrameStart], Header, sizeof(Header));
}

/// The auto-throttle's verdict on a site the writer has seen \p Load of: at ThrottleCalls calls
/// and every doubling after, a site whose mean call is under the threshold is cut
/// (throttleSite), and the cut is written (after \p Close ends the calls block) so the loader
/// can mark it.
template <typename CloseFn>
void judgeSite(Recorder &R, Bytes &P, uint32_t Index, SiteLoad &Load, CloseFn Close) {
  if (!Load.NextCheck) {
    Load.NextCheck = R.Cfg.ThrottleCalls;
    if (Load.Calls < Load.NextCheck)
      return;
  }
  Load.NextCheck *= 2;
  if (Load.Ticks >= Load.Calls * R.ThrottleTicks)
    return;
  // Marked by its calls' own time, not their durations: a recursive function's calls last
  // long and hold little of their own (yaml-cpp's RegEx::MatchUnchecked, 580 ns a call, was
  // marked, and its marks' code took in 15% of the run's samples).
  double MeanOwnTicks = static_cast<double>(Load.OwnTicks) / static_cast<double>(Load.Calls);
  if (!throttleSite(R, Index, MeanOwnTicks >= R.MarkWorthTicks)) {
    Load.Exempt = true;
    return;
  }
  if (R.Cfg.Verbose) {
    const char *Name, *How;
    {
      Lock G(R.SitesM);
      Name = R.SitesByIndex[Index]->signature;
      How = R.Throttled[Index] == CutMarked    ? "off, marked"
            : R.Throttled[Index] == CutSampled ? "sampled"
                                               : "off";
    }
    double NsPerTick = 1e9 / static_cast<double>(R.TicksPerSecond ? R.TicksPerSecond : 1);
    std::fprintf(stderr,
                 "scopeprof: throttled %s after %llu calls (mean %.0f ns, own %.0f ns): %s\n",
                 Name ? Name : "?", static_cast<unsigned long long>(Load.Calls),
                 static_cast<double>(Load.Ticks) / static_cast<double>(Load.Calls) * NsPerTick,
                 MeanOwnTicks * NsPerTick, How);
  }
  // After the switch the site is off, marked or sampled; a call that still saw it on and starts
  // later is discarded, not recorded.
  Load.CutTicks = scopeprof_now();
  ++R.SitesThrottled;
  Close();
  P.u8(fmt::EntryThrottle);
  P.u32(Index);
  P.u64(Load.Calls);
  P.u64(Load.CutTicks);
}

/// A site a new rule names is recording again: the writer stops cutting it.
void refreshThrottles(Recorder &R) {
  uint64_t Generation = __atomic_load_n(&R.RulesGeneration, __ATOMIC_ACQUIRE);
  if (Generation == R.LoadsRulesGeneration)
    return;
  R.LoadsRulesGeneration = Generation;
  for (uint32_t Index = 0; Index < R.Loads.size(); ++Index) {
    SiteLoad &Load = R.Loads[Index];
    if (Load.CutTicks && siteOn(R, Index)) {
      Load.CutTicks = 0;
      Load.Exempt = true;
    }
  }
}

/// The thread's off-CPU intervals the kernel reported since the last batch, first in the
/// batch: a reader knows them before the calls they overlap (switch records are in the ring
/// before the writer copies the records of calls that ended after them).
void writeOffCpu(Bytes &P, ThreadLog &L) {
  L.Switches.drain(L.OffCpuPending);
  // A log that cannot be written (a full disk) must not make them pile up without bound:
  // past this many, what they say is kept as one stretch of unknown state.
  constexpr size_t MaxPending = 1 << 16;
  if (L.OffCpuPending.size() > MaxPending)
    L.OffCpuPending = {{L.OffCpuPending.front().OutNs, L.OffCpuPending.back().InNs, fmt::OffCpuUnknown}};
  if (L.OffCpuPending.empty())
    return;
  P.u8(fmt::EntryOffCpu);
  P.u32(static_cast<uint32_t>(L.OffCpuPending.size()));
  for (const OffCpuInterval &I : L.OffCpuPending) {
    P.u64(I.OutNs);
    P.u64(I.InNs);
    P.u8(I.Kind);
  }
}

} // namespace

std::string headerFrame(const Recorder &R, const ThreadLog &L) {
  pid_t Tid = L.Tid;
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
  P.keyU64(fmt::KeyRunNonce, R.RunNonce);
  P.keyU64(fmt::KeyStartWallNs, R.StartWallNs);
  P.keyU64(fmt::KeyMinDurationNs, R.Cfg.MinDurationNs);
  P.keyU64(fmt::KeyMaxDepth, R.Cfg.MaxDepth);
  double PsPerTick = 1e12 / static_cast<double>(R.TicksPerSecond);
  P.keyU64(fmt::KeyScopeInnerPs, static_cast<uint64_t>(R.ScopeInnerTicks * PsPerTick));
  P.keyU64(fmt::KeyScopeOuterPs, static_cast<uint64_t>(R.ScopeOuterTicks * PsPerTick));
  P.keyU64(fmt::KeySampledExtraPs, static_cast<uint64_t>(R.SampledExtraTicks * PsPerTick));
  P.keyU64(fmt::KeyThrottledCallPs, static_cast<uint64_t>(R.ThrottledCallTicks * PsPerTick));
  P.keyU64(fmt::KeyCountsMemory, R.CountsMemory ? 1 : 0);
  P.keyU64(fmt::KeyCountedCalls, 1);
  P.keyU64(fmt::KeyThrottleCalls, R.Cfg.ThrottleCalls);
  P.keyU64(fmt::KeyThrottleNs, R.Cfg.ThrottleNs);
  P.keyU64(fmt::KeySamplePeriod, R.ThrottledOff ? 0 : fmt::SamplePeriod);
  if (uint64_t Period = L.Sampler.periodNs())
    P.keyU64(fmt::KeyCpuSampleNs, Period);
  if (uint64_t Since = L.Switches.sinceNs())
    P.keyU64(fmt::KeySwitchesSinceNs, Since);
  endFrame(Out, FrameStart, fmt::FrameHeader);
  return Out;
}

int openLogFile(const Recorder &R, const ThreadLog &L) {
  static bool Warned = false;
  std::string Base = R.RunDir + "/" + std::to_string(R.Pid) + "-" + std::to_string(L.Tid);
  for (int Attempt = 0; Attempt < 100; ++Attempt) {
    std::string Path = Base + (Attempt ? "-" + std::to_string(Attempt) : "") + ".splog";
    int Fd = open(Path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                  0600);
    if (Fd >= 0) {
      std::string Header = headerFrame(R, L);
      if (writeAll(Fd, Header.data(), Header.size()))
        return Fd;
      // Nothing half-written is left behind; the writer tries again with a later batch.
      warnOnce(Warned, "cannot write '" + Path + "': " + std::strerror(errno));
      close(Fd);
      unlink(Path.c_str());
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
  writeOffCpu(P, L);

  size_t CallsCountAt = std::string::npos;
  uint32_t CallsInBlock = 0;
  auto CloseCalls = [&] {
    if (CallsCountAt != std::string::npos)
      std::memcpy(&P.S[CallsCountAt], &CallsInBlock, 4);
    CallsCountAt = std::string::npos;
    CallsInBlock = 0;
  };
  // What this batch changes in the writer's view of the file, undone if it cannot be written.
  std::vector<uint32_t> NewSites, SummariesWritten;
  std::vector<size_t> NewModules;
  uint64_t BatchCalls = 0;
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
    NewSites.push_back(Index);
    P.u8(fmt::EntrySite);
    P.u32(Index);
    P.u64(S->id);
    P.u32(S->line);
    P.u32(S->kinds);
    P.str(S->signature ? S->signature : "");
    P.str(S->file ? S->file : "");
  };
  // A fork child's cuts, inherited: cut after none of its own calls, when its parent cut them.
  const bool Restating = R.RestateCuts;
  R.RestateCuts = false;
  for (uint32_t Index = 0; Restating && Index < R.Loads.size(); ++Index)
    if (R.Loads[Index].CutTicks) {
      Describe(Index);
      P.u8(fmt::EntryThrottle);
      P.u32(Index);
      P.u64(0);
      P.u64(R.Loads[Index].CutTicks);
    }
  const uint64_t TicksPerSecond = R.TicksPerSecond ? R.TicksPerSecond : 1;
  const bool OverBudget = __atomic_load_n(&R.OverBudget, __ATOMIC_RELAXED);
  const bool Filtering = R.MinDurationTicks || R.Cfg.MaxDepth || OverBudget;
  if (R.Cfg.ThrottleCalls)
    refreshThrottles(R);
  // Calls to write are copied in runs, one memcpy for each stretch of consecutive ones.
  size_t RunStart = 0, RunEnd = 0;
  auto FlushRun = [&] {
    if (RunEnd == RunStart)
      return;
    if (CallsCountAt == std::string::npos) {
      P.u8(fmt::EntryCalls);
      CallsCountAt = P.S.size();
      P.u32(0);
    }
    P.S.append(reinterpret_cast<const char *>(&Units[RunStart]),
               (RunEnd - RunStart) * sizeof(scopeprof_record));
    CallsInBlock += static_cast<uint32_t>(RunEnd - RunStart);
    BatchCalls += RunEnd - RunStart;
    RunStart = RunEnd;
  };
  enum Fate { Write, Count, Discard };
  // Each call is judged once: written, counted per site (filtered), or discarded (it started
  // after its site was throttled, unsampled: in flight when the switch was thrown). Samples
  // are not judged again: they stand for the calls of the site the throttle left out.
  auto Judge = [&](const scopeprof_record &U, uint32_t Index) {
    if (Index >= L.Described.size() || !L.Described[Index])
      return Count;
    if (R.Cfg.ThrottleCalls && !(U.meta & (fmt::FlagBroken | fmt::FlagSampled))) {
      if (R.Loads.size() <= Index)
        R.Loads.resize(Index + 1);
      SiteLoad &Load = R.Loads[Index];
      if (Load.CutTicks && U.start >= Load.CutTicks)
        return Discard;
      ++Load.Calls;
      Load.Ticks += U.end - U.start;
      Load.OwnTicks += ownTicks(L, U);
      if (Load.Calls >= Load.NextCheck && !Load.CutTicks && !Load.Exempt)
        judgeSite(R, P, Index, Load, [&] {
          FlushRun();
          CloseCalls();
        });
    }
    if (!Filtering || (U.meta & fmt::FlagBroken))
      return Write;
    if (OverBudget)
      return Count;
    auto Depth = static_cast<uint32_t>((U.meta >> fmt::MetaDepthShift) & fmt::MetaDepthMask);
    bool Kept = U.end - U.start >= R.MinDurationTicks && !(R.Cfg.MaxDepth && Depth >= R.Cfg.MaxDepth);
    return Kept ? Write : Count;
  };
  // What the next call allocated (an ExtMemory unit before it, perhaps in an earlier batch):
  // written with it, or not at all.
  bool &Allocated = L.Allocated;
  uint64_t &Allocs = L.Allocs, &AllocBytes = L.AllocBytes, &AllocPeak = L.AllocPeak;
  struct CpuSample {
    uint32_t Index, Recorded, Weight;
    uint64_t Ticks, Address, Sp, Fp;
    const scopeprof_record *Stack;
    size_t StackUnits;
  };
  std::vector<CpuSample> CpuSamples;
  // The live aggregates take in the batch whole, so `ctl results` never sees half of one.
  Lock Live(R.LiveM);
  for (size_t I = 0; I < N;) {
    const scopeprof_record &U = Units[I];
    if ((U.meta & fmt::FlagExt) &&
        static_cast<uint8_t>(U.meta >> fmt::ExtTypeShift) == fmt::ExtMemory) {
      Allocated = true;
      Allocs = U.start;
      AllocBytes = U.end;
      AllocPeak = U.meta & fmt::ExtMemoryPeakMask;
      ++I;
      continue;
    }
    if ((U.meta & fmt::FlagExt) &&
        static_cast<uint8_t>(U.meta >> fmt::ExtTypeShift) == fmt::ExtCpuSample) {
      // The marks are site indexes + 1; 0 - 1: NoSite (a sample outside every marked call).
      auto Index = static_cast<uint32_t>(U.end & fmt::MetaIndexMask) - 1;
      auto Recorded = static_cast<uint32_t>(U.end >> 32) - 1; // 0 - 1: NoSite
      for (uint32_t Site : {Index, Recorded})
        if (Site != fmt::NoSite && !(Site < L.Described.size() && L.Described[Site])) {
          FlushRun();
          Describe(Site);
        }
      // The handler publishes the address and the stack with it, in the same buffer.
      size_t StackUnits = (U.meta >> fmt::ExtStackUnitsShift) & fmt::ExtStackUnitsMask;
      if (I + 2 + StackUnits > N)
        break;
      const scopeprof_record &At = Units[I + 1];
      CpuSamples.push_back({Index, Recorded, static_cast<uint32_t>(U.meta & fmt::MetaIndexMask),
                            U.start, At.meta, At.start, At.end, &Units[I + 2], StackUnits});
      I += 2 + StackUnits;
      continue;
    }
    if (U.meta & fmt::FlagExt) {
      FlushRun();
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
        // The periodic /proc check below may have seen this rename before its unit arrived.
        std::string Name(Payload, Size);
        if (Name != L.LastName) {
          L.LastName = std::move(Name);
          P.u8(fmt::EntryThreadName);
          P.str(L.LastName);
        }
      } else if (Type == fmt::ExtCase && Size >= 24) {
        P.u8(fmt::EntryCase);
        P.S.append(Payload, 24);
        P.str(std::string(Payload + 24, Size - 24));
      }
      continue;
    }
    auto Index = static_cast<uint32_t>(U.meta & fmt::MetaIndexMask);
    if (!(Index < L.Described.size() && L.Described[Index])) {
      FlushRun();
      Describe(Index);
    }
    Fate F = Judge(U, Index);
    if (F == Write && Allocated) {
      FlushRun();
      CloseCalls();
      P.u8(fmt::EntryMemoryPeak);
      P.u64(Allocs);
      P.u64(AllocBytes);
      P.u64(AllocPeak);
      RunStart = RunEnd = I;
    }
    Allocated = false;
    if (F != Discard)
      noteCall(R, L, U, Index, F == Write);
    if (F == Write) {
      if (RunEnd != I) {
        FlushRun();
        RunStart = I;
      }
      RunEnd = ++I;
      continue;
    }
    FlushRun();
    if (F == Count) {
      uint64_t Weight = (U.meta & fmt::FlagSampled) ? fmt::SamplePeriod : 1;
      Summary &S = L.Summaries[Index];
      S.Calls += Weight;
      S.TotalTicks += Weight * (U.end - U.start);
      S.Dirty = true;
    }
    ++I;
  }
  FlushRun();
  CloseCalls();
  if (!CpuSamples.empty()) {
    // Every mapping known, each described once per file: the loader unwinds a sample's stack
    // through files no sample's address lies in (the runtime's malloc calling libc's).
    bool AddressUnknown = false;
    for (const CpuSample &S : CpuSamples)
      AddressUnknown = AddressUnknown || (S.Address && !inKnownModule(R, S.Address));
    refreshModules(R, AddressUnknown, AnchorNs);
    L.ModulesDescribed.resize(R.Modules.size());
    for (size_t Index = 0; Index < R.Modules.size(); ++Index) {
      if (L.ModulesDescribed[Index] || R.Modules[Index].Gone)
        continue;
      L.ModulesDescribed[Index] = 1;
      NewModules.push_back(Index);
      const MappedModule &M = R.Modules[Index];
      P.u8(fmt::EntryModule);
      P.u64(M.Start);
      P.u64(M.End);
      P.u64(M.Offset);
      P.u64(M.MtimeNs);
      P.u64(M.Size);
      P.str(M.Path);
    }
    P.u8(fmt::EntryCpuSamplesAt);
    P.u32(static_cast<uint32_t>(CpuSamples.size()));
    for (const CpuSample &S : CpuSamples) {
      P.u32(S.Index);
      P.u32(S.Recorded);
      P.u32(S.Weight);
      P.u64(S.Ticks);
      P.u64(S.Address);
      P.u64(S.Sp);
      P.u64(S.Fp);
      // Past the log budget the stacks go (4 KiB a sample); the samples stay, 44 bytes each.
      size_t StackBytes = OverBudget ? 0 : S.StackUnits * sizeof(scopeprof_record);
      P.u32(static_cast<uint32_t>(StackBytes));
      P.S.append(reinterpret_cast<const char *>(S.Stack), StackBytes);
    }
  }
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
    SummariesWritten.push_back(Index);
  }
  uint64_t Dropped = __atomic_load_n(&L.Dropped, __ATOMIC_RELAXED), DroppedBefore = L.DroppedWritten;
  if (Dropped != L.DroppedWritten) {
    P.u8(fmt::EntryDropped);
    P.u64(Dropped);
    L.DroppedWritten = Dropped;
  }
  if (P.S.size() == Empty)
    return;
  endFrame(Frame, 0, fmt::FrameBatch);
  // A thread that started while its log could not be created (a full disk) tries again.
  if (L.Fd < 0)
    L.Fd = openLogFile(R, L);
  off_t FileEnd = L.Fd >= 0 ? lseek(L.Fd, 0, SEEK_END) : -1;
  if (L.Fd < 0 || !writeAll(L.Fd, Frame.data(), Frame.size())) {
    // A full disk: take the partial frame back out, so the file stays a sequence of whole
    // frames and later batches load once there is space again. The batch's calls are counted
    // as dropped, and what it described is described again in the next one.
    static bool Warned = false;
    if (L.Fd >= 0) {
      warnOnce(Warned, std::string("cannot write a log batch: ") + std::strerror(errno) +
                           "; its calls are counted as dropped");
      if (FileEnd >= 0 && ftruncate(L.Fd, FileEnd) != 0)
        warnOnce(Warned, std::string("cannot truncate a log file: ") + std::strerror(errno));
    }
    // The intervals stay pending and go with the next batch.
    for (uint32_t Index : NewSites)
      L.Described[Index] = 0;
    for (size_t Index : NewModules)
      L.ModulesDescribed[Index] = 0;
    for (uint32_t Index : SummariesWritten)
      L.Summaries[Index].Dirty = true;
    L.DroppedWritten = DroppedBefore;
    R.RestateCuts = R.RestateCuts || Restating;
    __atomic_fetch_add(&L.Dropped, BatchCalls, __ATOMIC_RELAXED);
    return;
  }
  L.OffCpuPending.clear();
  R.CallsWritten += BatchCalls;
  ++R.BatchesWritten;
  uint64_t Written = __atomic_add_fetch(&R.LogBytes, Frame.size(), __ATOMIC_RELAXED);
  if (R.Cfg.MaxLogBytes && Written >= R.Cfg.MaxLogBytes &&
      !__atomic_exchange_n(&R.OverBudget, true, __ATOMIC_RELAXED)) {
    samplesDecide(); // a counted call's time is its parent's self time, its samples its own
    std::fprintf(stderr,
                 "scopeprof: this process wrote %llu MiB of logs (SCOPEPROF_MAX_LOG_SIZE); from "
                 "now on its calls are counted per function, not written one by one\n",
                 static_cast<unsigned long long>(Written >> 20));
  }
}


} // namespace scopeprof::runtime
