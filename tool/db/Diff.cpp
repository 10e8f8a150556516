// Diff: per-run totals decide the size of a change of wall or CPU time; per-call times and the
// spread between runs decide whether it is beyond noise. Allocations per call compare exactly.
#include "Diff.h"

#include "Stats.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

namespace scopeprof::db {
namespace {

/// Durations kept per site and side for the rank test: enough for a tight test, bounded memory.
constexpr size_t SampleSize = 2000;

/// Functions that vote on the machine factor: enough recorded calls a side for a steady median
/// (a median of 30 calls moves by 15% from run to run: with 20 calls a gate on the example let
/// functions called ten times a run vote, made a factor of 0.857, and four unchanged functions
/// became regressions), each long enough that the measurement's own cost does not dominate (the
/// median own time of a call, in ns).
constexpr int64_t FactorMinCalls = 100;
constexpr double FactorMinOwnNs = 100;
/// A function whose own time holds a sampled callee's unrecorded calls votes only when they are
/// a sliver of it: a regression of the callee moves its vote by as little.
constexpr double MaxHiddenShare = 0.05;
/// Runs of one side whose machine factors differ by less than this ran alike.
constexpr double MinSpeedChange = 1.2;

/// One time of a site on one side, per run, and how many calls have it one by one.
struct Series {
  std::map<int64_t, double> TotalByRun, SelfByRun;
  /// The variance of each run's total that comes from sampling: the unrecorded calls' time is
  /// the drawn calls' mean times the calls they stand for, and that mean is known to within its
  /// drawn calls' spread (w^2 times the sum of (d - mean)^2 over the k drawn calls, weight w).
  /// Not the calls' number: how many there were is judged apart. 0 where every call was recorded.
  std::map<int64_t, double> SamplingVarByRun;
  /// The mean of a call recorded one by one, stalls capped: of a function the auto-throttle cut
  /// off, the calls before the cut, measured where its total after the cut is counted in CPU
  /// samples (a millisecond each: a function of 3 ms after the cut had none in one run of six).
  std::map<int64_t, double> RecordedMeanByRun;
  /// Of a function cut off: the variance of its own time after the cut, CPU samples each
  /// standing for its periods, as many as chance made them (Poisson: the square of what each
  /// stands for, summed). 10 ns calls of the example's parseMethod had 0 to 3 samples a run of
  /// one build, and totals from 0.65 to 5 ms.
  std::map<int64_t, double> CutSamplesVarByRun;
  int64_t Recorded = 0;
};

/// A site's allocations in one run.
struct AllocRun {
  int64_t Calls = 0; ///< calls with counts, a sample weighing the calls it stands for
  int64_t Allocs = 0, Bytes = 0, SelfBytes = 0;
  bool Exact = false; ///< every call of the site was recorded with its counts
};

struct SideSite {
  std::string Signature, Location;
  std::map<int64_t, int64_t> SiteIdByRun;
  std::map<int64_t, double> CallsByRun;
  Series Wall, Cpu;
  /// Every recorded call has a CPU time, in every run: otherwise the totals would compare
  /// different sets of calls.
  bool CpuComplete = true;
  std::map<int64_t, AllocRun> AllocByRun;
  /// Its calls hold enough calls of a sampled function that were not recorded to matter: their
  /// time is in its calls' own times, so it cannot vote on the machine factor.
  bool HidesCalls = false;
  /// The auto-throttle cut it off in some run: its calls there stop at the cut, a lower bound
  /// that says nothing of a change in how often it is called.
  bool CountsCut = false;
};

/// A time the comparison knows: the column of calls it samples, and where a site keeps it.
struct Measure {
  const char *Column;
  Series SideSite::*Of;
  const char *Own; ///< the column of a call's own part of it
};
const Measure WallTime{"duration_ns", &SideSite::Wall, "self_ns"},
    CpuTime{"cpu_ns", &SideSite::Cpu, "self_cpu_ns"};

/// Whether every run of \p Side has a thread of which \p Condition (on threads) holds.
bool everyRunHas(const RunSet &Side, const char *Condition) {
  auto S = Side.Db->prepare(std::string("SELECT 1 FROM threads WHERE run_id=?1 AND ") + Condition +
                            " LIMIT 1");
  for (int64_t Run : Side.Runs) {
    S.bind(1, Run);
    bool Has = S.step();
    S.reset();
    if (!Has)
      return false;
  }
  return !Side.Runs.empty();
}

/// " AND case_id IN (...)": the side's selected cases (ids are unique across runs), or "" when
/// the side compares all calls.
std::string casesOf(const RunSet &Side, const std::string &Column = "case_id") {
  if (Side.Cases.empty())
    return "";
  CallFilter Filter;
  Filter.Cases.emplace();
  for (const auto &[Run, Ids] : Side.Cases)
    Filter.Cases->insert(Filter.Cases->end(), Ids.begin(), Ids.end());
  return Filter.casesClause(Column);
}

/// The side's statistics computed from its selected cases' calls, not read from site_stats.
std::map<std::string, SideSite> readCaseSide(const RunSet &Side, bool WithCpu, bool WithMemory) {
  std::map<std::string, SideSite> Sites;
  auto Names = Side.Db->prepare("SELECT site_key, signature, file || ':' || line FROM sites "
                                "WHERE id=?1");
  for (int64_t Run : Side.Runs) {
    CallFilter Filter;
    Filter.Cases = Side.Cases.at(Run);
    for (const SiteStats &St : computeSiteStats(*Side.Db, Run, Filter)) {
      Names.bind(1, St.SiteId).step();
      SideSite &Site = Sites[Names.text(0)];
      Site.Signature = Names.text(1);
      Site.Location = Names.text(2);
      Names.reset();
      Site.SiteIdByRun[Run] = St.SiteId;
      Site.CallsByRun[Run] = static_cast<double>(St.Calls);
      Site.CountsCut = Site.CountsCut || St.CutOff;
      Site.Wall.TotalByRun[Run] = static_cast<double>(St.TotalNs);
      Site.Wall.SelfByRun[Run] = static_cast<double>(St.SelfNs);
      Site.Wall.Recorded += St.Recorded;
      if (WithCpu) {
        Site.CpuComplete = Site.CpuComplete && St.CpuCalls == St.Recorded &&
                           St.Calls == St.Recorded + St.Estimated;
        Site.Cpu.Recorded += St.CpuCalls;
        if (St.CpuCalls) {
          Site.Cpu.TotalByRun[Run] = static_cast<double>(St.CpuNs);
          Site.Cpu.SelfByRun[Run] = static_cast<double>(St.SelfCpuNs);
        }
      }
      if (WithMemory && St.AllocCalls) {
        AllocRun &A = Site.AllocByRun[Run];
        A.Exact = St.AllocCalls == St.Calls;
        A.Calls = A.Exact ? St.Calls : St.AllocCalls;
        A.Allocs = St.Allocs;
        A.Bytes = St.AllocBytes;
        A.SelfBytes = St.SelfAllocBytes;
      }
    }
  }
  return Sites;
}

std::map<std::string, SideSite> readSide(const RunSet &Side, bool WithCpu, bool WithMemory) {
  if (!Side.Cases.empty())
    return readCaseSide(Side, WithCpu, WithMemory);
  std::map<std::string, SideSite> Sites;
  auto S = Side.Db->prepare(
      "SELECT s.site_key, s.signature, s.file || ':' || s.line, st.site_id, st.calls, st.total_ns, "
      "st.self_ns, st.recorded_calls, st.cpu_calls, st.cpu_ns, st.self_cpu_ns, "
      "coalesce(st.estimated_calls, 0), st.self_alloc_bytes FROM site_stats st "
      "JOIN sites s ON s.id = st.site_id WHERE st.run_id=?1");
  // A sample counts for the calls it stands for; the unweighted count tells whether every call
  // was recorded with its counts (a sample or a call only counted makes it fall short).
  auto Counted = Side.Db->prepare(
      "SELECT site_id, sum(weight), count(*), sum(weight * allocs), sum(weight * alloc_bytes) "
      "FROM calls WHERE run_id=?1 AND allocs IS NOT NULL "
      "GROUP BY site_id");
  auto Cut =
      Side.Db->prepare("SELECT DISTINCT site_id FROM throttled WHERE run_id=?1 AND NOT sampled");
  // The time of the unrecorded calls of a sampled function in the calls of their callers.
  auto Hiding = Side.Db->prepare("SELECT p.site_id, total((c.weight - 1) * c.duration_ns) FROM "
                                 "calls c JOIN calls p ON p.id = c.parent_id WHERE c.run_id=?1 AND "
                                 "c.weight > 1 GROUP BY p.site_id");
  for (int64_t Run : Side.Runs) {
    std::map<int64_t, SideSite *> ById;
    S.bind(1, Run);
    while (S.step()) {
      SideSite &Site = Sites[S.text(0)];
      Site.Signature = S.text(1);
      Site.Location = S.text(2);
      Site.SiteIdByRun[Run] = S.integer(3);
      ById[S.integer(3)] = &Site;
      Site.CallsByRun[Run] = static_cast<double>(S.integer(4));
      Site.Wall.TotalByRun[Run] = static_cast<double>(S.integer(5));
      Site.Wall.SelfByRun[Run] = static_cast<double>(S.integer(6));
      Site.Wall.Recorded += S.integer(7);
      // The site's own bytes less those of a sampled callee's unrecorded calls, which the
      // calls table leaves in their caller's own bytes (Stats.cpp).
      if (WithMemory && !S.isNull(12))
        Site.AllocByRun[Run].SelfBytes = S.integer(12);
      if (!WithCpu)
        continue;
      // Calls only counted (under SCOPEPROF_MIN_DURATION, past the depth or size limits) have
      // no CPU time, and which calls are counted depends on their wall time.
      Site.CpuComplete = Site.CpuComplete && S.integer(8) == S.integer(7) &&
                         S.integer(4) == S.integer(7) + S.integer(11);
      Site.Cpu.Recorded += S.integer(8);
      if (!S.isNull(9))
        Site.Cpu.TotalByRun[Run] = static_cast<double>(S.integer(9));
      if (!S.isNull(10))
        Site.Cpu.SelfByRun[Run] = static_cast<double>(S.integer(10));
    }
    S.reset();
    Cut.bind(1, Run);
    while (Cut.step())
      if (auto It = ById.find(Cut.integer(0)); It != ById.end())
        It->second->CountsCut = true;
    Cut.reset();
    Hiding.bind(1, Run);
    while (Hiding.step())
      if (auto It = ById.find(Hiding.integer(0)); It != ById.end()) {
        // site_stats' own time has them taken out; the calls' own times still hold them.
        double Hidden = Hiding.real(1), Own = It->second->Wall.SelfByRun[Run] + Hidden;
        It->second->HidesCalls = It->second->HidesCalls || Hidden > MaxHiddenShare * Own;
      }
    Hiding.reset();
    if (!WithMemory)
      continue;
    Counted.bind(1, Run);
    while (Counted.step()) {
      auto It = ById.find(Counted.integer(0));
      if (It == ById.end())
        continue;
      AllocRun &A = It->second->AllocByRun[Run];
      A.Calls = Counted.integer(1);
      A.Allocs = Counted.integer(3);
      A.Bytes = Counted.integer(4);
      A.Exact = Counted.integer(2) == static_cast<int64_t>(It->second->CallsByRun[Run]);
    }
    Counted.reset();
  }
  return Sites;
}

/// Notes the variance of the own time that CPU samples give the side's cut-off functions.
void addCutSamplesVariance(const RunSet &Side, std::map<std::string, SideSite> &Sites) {
  auto S = Side.Db->prepare(
      "SELECT s.site_id, total(s.weight * s.weight * t.cpu_sample_ns * t.cpu_sample_ns) FROM "
      "cpu_samples s JOIN threads t ON t.id = s.thread_id WHERE s.run_id=?1 AND NOT "
      "s.in_scopeprof" +
      casesOf(Side, "s.case_id") + " GROUP BY s.site_id");
  for (int64_t Run : Side.Runs) {
    std::map<int64_t, SideSite *> Cut;
    for (auto &[Key, Site] : Sites)
      if (auto It = Site.SiteIdByRun.find(Run); Site.CountsCut && It != Site.SiteIdByRun.end())
        Cut[It->second] = &Site;
    S.bind(1, Run);
    while (S.step())
      if (auto It = Cut.find(S.integer(0)); It != Cut.end())
        It->second->Wall.CutSamplesVarByRun[Run] = It->second->Cpu.CutSamplesVarByRun[Run] =
            S.real(1);
    S.reset();
  }
}

/// Per-call figures of a site in one run, a uniform sample of its recorded calls.
struct RunSample {
  std::vector<double> Times, Own; ///< the measure's column and its own part, call by call
  uint64_t Seen = 0;              ///< the recorded calls it was drawn from
};
using CallSamples = std::map<int64_t, RunSample>; ///< by run

/// Reservoir sampling with a fixed seed: the same databases always give the same answer. The
/// side's runs share SampleSize alike, so that each run is as much of the sample.
CallSamples sampleCalls(const RunSet &Side, const SideSite &Site, const Measure &M) {
  CallSamples Samples;
  std::mt19937_64 Random(42);
  const size_t PerRun = std::max<size_t>(1, SampleSize / std::max<size_t>(1, Side.Runs.size()));
  auto S = Side.Db->prepare(fmt::format(
      "SELECT {0}, coalesce({1}, 0) FROM calls WHERE run_id=?1 AND site_id=?2 AND {0} IS NOT NULL{2}",
      M.Column, M.Own, casesOf(Side)));
  for (const auto &[Run, SiteId] : Site.SiteIdByRun) {
    RunSample &Sample = Samples[Run];
    S.bind(1, Run).bind(2, SiteId);
    while (S.step()) {
      auto V = static_cast<double>(S.integer(0)), Own = static_cast<double>(S.integer(1));
      if (Sample.Times.size() < PerRun) {
        Sample.Times.push_back(V);
        Sample.Own.push_back(Own);
      } else if (uint64_t Slot = Random() % (Sample.Seen + 1); Slot < PerRun) {
        Sample.Times[Slot] = V;
        Sample.Own[Slot] = Own;
      }
      ++Sample.Seen;
    }
    S.reset();
  }
  return Samples;
}

/// A call longer than this many times the 99th percentile of its function's calls (both sides
/// pooled) is a stall of the machine, not the function's work: it counts as that long.
constexpr double StallFactor = 10;

double quantile(std::vector<double> V, double Q) {
  if (V.empty())
    return 0;
  auto At = V.begin() + static_cast<long>(Q * static_cast<double>(V.size() - 1));
  std::nth_element(V.begin(), At, V.end());
  return *At;
}

/// How fast the machine ran each run of a side, against base's runs on average (1: as fast):
/// a run's times are divided by its factor.
using RunFactors = std::map<int64_t, double>;

double factorOf(const RunFactors &Factors, int64_t Run) {
  auto It = Factors.find(Run);
  return It == Factors.end() ? 1 : It->second;
}

/// Takes out of each run's total the part of its calls beyond \p Cap, and out of its self time
/// the part of their own times beyond \p OwnCap (a preempted call holds milliseconds of somebody
/// else's work; pooled, one stall outweighs thousands of calls). The caps are at base's speed;
/// a run is capped at its own.
void capStalls(const RunSet &Side, SideSite &Site, const Measure &M, double Cap, double OwnCap,
               const RunFactors &Factors) {
  auto S = Side.Db->prepare(fmt::format("SELECT total(({0} - ?3) * weight) FILTER (WHERE {0} > ?3), "
                                        "total(({1} - ?4) * weight) FILTER (WHERE {1} > ?4) "
                                        "FROM calls WHERE run_id=?1 AND site_id=?2 AND "
                                        "({0} > ?3 OR {1} > ?4){2}",
                                        M.Column, M.Own, casesOf(Side)));
  auto Recorded = Side.Db->prepare(
      fmt::format("SELECT avg(min({0}, ?3)) FROM calls WHERE run_id=?1 AND site_id=?2 AND "
                  "weight = 1 AND {0} IS NOT NULL{1}",
                  M.Column, casesOf(Side)));
  // Stalls capped here as in the totals.
  auto Drawn = Side.Db->prepare(fmt::format("SELECT count(*), total(weight * min({0}, ?3)), "
                                            "total(weight * weight * min({0}, ?3) * min({0}, ?3)) "
                                            "FROM calls WHERE run_id=?1 AND site_id=?2 AND "
                                            "weight > 1 AND {0} IS NOT NULL{1}",
                                            M.Column, casesOf(Side)));
  Series &Of = Site.*M.Of;
  for (const auto &[Run, SiteId] : Site.SiteIdByRun) {
    double RunCap = Cap * factorOf(Factors, Run);
    S.bind(1, Run).bind(2, SiteId).bind(3, RunCap).bind(4, OwnCap * factorOf(Factors, Run));
    if (S.step()) {
      if (auto It = Of.TotalByRun.find(Run); It != Of.TotalByRun.end())
        It->second = std::max(0.0, It->second - S.real(0));
      if (auto It = Of.SelfByRun.find(Run); It != Of.SelfByRun.end())
        It->second = std::max(0.0, It->second - S.real(1));
    }
    S.reset();
    if (Site.CountsCut) {
      Recorded.bind(1, Run).bind(2, SiteId).bind(3, RunCap);
      if (Recorded.step() && !Recorded.isNull(0))
        Of.RecordedMeanByRun[Run] = Recorded.real(0);
      Recorded.reset();
    }
    Drawn.bind(1, Run).bind(2, SiteId).bind(3, RunCap);
    if (Drawn.step() && Drawn.integer(0) > 1) {
      double K = static_cast<double>(Drawn.integer(0));
      Of.SamplingVarByRun[Run] = std::max(0.0, Drawn.real(2) - Drawn.real(1) * Drawn.real(1) / K);
    }
    Drawn.reset();
  }
}

/// Expresses each run of \p Of at base's speed.
void normalize(Series &Of, const RunFactors &Factors) {
  for (auto &[Run, V] : Of.TotalByRun)
    V /= factorOf(Factors, Run);
  for (auto &[Run, V] : Of.SelfByRun)
    V /= factorOf(Factors, Run);
  for (auto &[Run, V] : Of.SamplingVarByRun)
    V /= factorOf(Factors, Run) * factorOf(Factors, Run);
  for (auto &[Run, V] : Of.RecordedMeanByRun)
    V /= factorOf(Factors, Run);
  for (auto &[Run, V] : Of.CutSamplesVarByRun)
    V /= factorOf(Factors, Run) * factorOf(Factors, Run);
}

double meanOver(const std::map<int64_t, double> &ByRun, const std::vector<int64_t> &Runs) {
  double Sum = 0;
  for (int64_t Run : Runs)
    if (auto It = ByRun.find(Run); It != ByRun.end())
      Sum += It->second;
  return Runs.empty() ? 0 : Sum / static_cast<double>(Runs.size());
}

/// The log of each of the side's runs' values; a run without one counts as 1 ns.
std::vector<double> logsOver(const std::map<int64_t, double> &ByRun, const RunSet &Side) {
  std::vector<double> Logs;
  for (int64_t Run : Side.Runs) {
    auto It = ByRun.find(Run);
    Logs.push_back(std::log(std::max(It == ByRun.end() ? 0 : It->second, 1.0)));
  }
  return Logs;
}

/// The run is the unit of replication: every head run beyond every base run (above them when
/// \p Up), and the change of the mean more than twice either side's spread from run to run.
/// Three runs a side of identical builds separate by chance one time in ten per function (2 of
/// the 20 ways to split six runs); a change that is only just past the spread is such a chance.
/// On a log scale: a machine's noise is a factor, and a function made 3 times slower spreads 3
/// times as wide in linear terms (a Report::add of the example, 2.5 times slower in every head
/// run, was missed for a head spread of 7.6 ms against a change of 11 ms).
bool runsSeparate(const std::vector<double> &Base, const std::vector<double> &Head, bool Up) {
  auto [BLo, BHi] = std::minmax_element(Base.begin(), Base.end());
  auto [HLo, HHi] = std::minmax_element(Head.begin(), Head.end());
  auto Mean = [](const std::vector<double> &V) {
    return std::accumulate(V.begin(), V.end(), 0.0) / static_cast<double>(V.size());
  };
  double Change = Mean(Head) - Mean(Base), Spread = std::max(*BHi - *BLo, *HHi - *HLo);
  return (Up ? *HLo > *BHi : *HHi < *BLo) && std::fabs(Change) > 2 * Spread;
}

SiteDiff describe(const std::string &Key, const SideSite &Site, const std::vector<int64_t> &Runs,
                  bool IsHead) {
  SiteDiff D;
  D.Key = Key;
  D.Signature = Site.Signature;
  D.Location = Site.Location;
  (IsHead ? D.HeadCalls : D.BaseCalls) = meanOver(Site.CallsByRun, Runs);
  (IsHead ? D.Wall.HeadTotal : D.Wall.BaseTotal) = meanOver(Site.Wall.TotalByRun, Runs);
  (IsHead ? D.Wall.HeadSelf : D.Wall.BaseSelf) = meanOver(Site.Wall.SelfByRun, Runs);
  return D;
}

/// One measure of one matched site: both sides' samples of its calls.
struct Sampled {
  CallSamples Base, Head;
};

double median(std::vector<double> V) {
  if (V.empty())
    return 0;
  size_t Mid = V.size() / 2;
  std::nth_element(V.begin(), V.begin() + static_cast<long>(Mid), V.end());
  if (V.size() % 2)
    return V[Mid];
  return (V[Mid] + *std::max_element(V.begin(), V.begin() + static_cast<long>(Mid))) / 2;
}

/// The median own time of a call in each run of both sides, when the site may vote on the
/// machine's speed: enough recorded calls in every run for a steady median. Own time, not the
/// calls' durations: a regressed function makes every caller's durations longer too, and with
/// a few voters its callers would move the factor and the regression would be divided away
/// (for the same reason a site whose own time holds more than a sliver of a sampled function's
/// unrecorded calls has no vote). The median, so that a preempted call moves no vote.
std::optional<std::vector<double>> runMedians(const Sampled &S, const SideSite &B,
                                              const SideSite &H, const RunSet &Base,
                                              const RunSet &Head) {
  if (B.HidesCalls || H.HidesCalls)
    return std::nullopt;
  std::vector<double> Medians;
  for (auto [Side, Samples] : {std::pair{&Base, &S.Base}, std::pair{&Head, &S.Head}})
    for (int64_t Run : Side->Runs) {
      auto It = Samples->find(Run);
      if (It == Samples->end() || It->second.Seen < FactorMinCalls)
        return std::nullopt;
      Medians.push_back(median(It->second.Own));
    }
  if (median(Medians) < FactorMinOwnNs)
    return std::nullopt;
  return Medians;
}

/// A busier or slower machine makes every function slower alike, and a shared machine changes
/// speed from one run to the next (on a 2-core VM beside a busy loop, runs of one build fell
/// into two groups, every function's median call 1.8 times as long in one as in the other):
/// each run gets a factor, not just each side. A run's speed against another is the median
/// over the voters of the ratio of their median own times in the two; a run's factor is the
/// geometric mean of its speed against every run, scaled so that base's runs average 1. One
/// function's real regression barely moves a median.
struct MachineSpeed {
  RunFactors Base, Head;
  MachineFactor Summary; ///< head's runs against base's, for the summary line
};

MachineSpeed machineSpeed(const std::vector<std::vector<double>> &Voters, const RunSet &Base,
                          const RunSet &Head, const DiffOptions &Options) {
  MachineSpeed Speed;
  if (!Options.Normalize || Voters.size() < 3)
    return Speed;
  size_t Runs = Base.Runs.size() + Head.Runs.size();
  std::vector<double> LogFactor(Runs, 0);
  std::vector<double> Ratios(Voters.size());
  for (size_t R = 0; R < Runs; ++R)
    for (size_t Against = 0; Against < Runs; ++Against) {
      for (size_t V = 0; V < Voters.size(); ++V)
        Ratios[V] = Voters[V][R] / std::max(Voters[V][Against], 1.0);
      LogFactor[R] += std::log(std::max(median(Ratios), 1e-9)) / static_cast<double>(Runs);
    }
  double BaseLog = 0;
  for (size_t R = 0; R < Base.Runs.size(); ++R)
    BaseLog += LogFactor[R] / static_cast<double>(Base.Runs.size());
  double HeadLog = 0;
  for (size_t R = 0; R < Runs; ++R) {
    bool IsBase = R < Base.Runs.size();
    int64_t Run = IsBase ? Base.Runs[R] : Head.Runs[R - Base.Runs.size()];
    (IsBase ? Speed.Base : Speed.Head)[Run] = std::exp(LogFactor[R] - BaseLog);
    if (!IsBase)
      HeadLog += (LogFactor[R] - BaseLog) / static_cast<double>(Head.Runs.size());
  }
  Speed.Summary.Value = std::exp(HeadLog);
  Speed.Summary.Sites = Voters.size();
  return Speed;
}

/// Whether a function's calls went as fast as the machine factors say. Within a side whose runs
/// ran at different speeds, its runs' median calls should lie closer together divided by the
/// factors than as measured; if they lie closer as measured, taken over such sides together (the
/// log ranges summed: one side's hint does not outvote the other's clear no), the function did
/// not change speed with the machine. (Within a side: between sides a regression can mimic or
/// cancel a machine's change.) A machine does not always change speed alike for every
/// function: on a 2-core VM beside a busy loop a regex's calls took 1.7 times as long in some
/// runs, a short arithmetic function's no longer, and divided by those runs' factors the
/// arithmetic one looked 66% slower in a head that had two of them. Runs with too few calls for
/// a steady median say nothing either way.
bool followsFactors(const Sampled &S, const MachineSpeed &Speed) {
  bool Judged = false;
  double Closer = 0; ///< how much closer divided than measured, summed over the sides judged
  for (int Side : {0, 1}) {
    double Lo[3] = {INFINITY, INFINITY, INFINITY}, Hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (const auto &[Run, Sample] : Side ? S.Head : S.Base) {
      if (Sample.Seen < FactorMinCalls)
        continue;
      double Log = std::log(std::max(median(Sample.Times), 1.0)),
             Factor = std::log(factorOf(Side ? Speed.Head : Speed.Base, Run));
      double Of[3] = {Log, Log - Factor, Factor};
      for (int K : {0, 1, 2}) {
        Lo[K] = std::min(Lo[K], Of[K]);
        Hi[K] = std::max(Hi[K], Of[K]);
      }
    }
    if (!(Hi[2] - Lo[2] > std::log(MinSpeedChange)))
      continue; // its runs ran alike: nothing to tell
    Closer += (Hi[0] - Lo[0]) - (Hi[1] - Lo[1]);
    Judged = true;
  }
  return !Judged || Closer >= 0;
}

/// Caps the stalls of both sides' calls of a site (where both recorded calls) and expresses
/// every run at base's speed (unless the function did not follow the machine's speed); returns
/// the per-call times for the rank test, likewise.
std::pair<std::vector<double>, std::vector<double>>
settle(const RunSet &Base, SideSite &B, const RunSet &Head, SideSite &H, const Measure &M,
       const Sampled &S, const MachineSpeed &AllSites) {
  const MachineSpeed Measured, &Speed = followsFactors(S, AllSites) ? AllSites : Measured;
  std::vector<double> Times[2], Own;
  for (int Side : {0, 1})
    for (const auto &[Run, Sample] : Side ? S.Head : S.Base) {
      double F = factorOf(Side ? Speed.Head : Speed.Base, Run);
      for (double V : Sample.Times)
        Times[Side].push_back(V / F);
      for (double V : Sample.Own)
        Own.push_back(V / F);
    }
  if (!Times[0].empty() && !Times[1].empty()) {
    std::vector<double> All = Times[0];
    All.insert(All.end(), Times[1].begin(), Times[1].end());
    double Cap = StallFactor * quantile(std::move(All), 0.99),
           OwnCap = StallFactor * quantile(std::move(Own), 0.99);
    capStalls(Base, B, M, Cap, OwnCap, Speed.Base);
    capStalls(Head, H, M, Cap, OwnCap, Speed.Head);
  }
  normalize(B.*M.Of, Speed.Base);
  normalize(H.*M.Of, Speed.Head);
  return {std::move(Times[0]), std::move(Times[1])};
}

/// The noise model, the same for every time: the change's size from the per-run totals;
/// whether it is beyond noise from the rank test of per-call times (or a changed call count)
/// and, with several runs a side, from the runs themselves.
TimeDiff compareTimes(const Series &B, const Series &H,
                      std::pair<std::vector<double>, std::vector<double>> Calls,
                      const RunSet &Base, const SideSite &BaseSite, const RunSet &Head,
                      const SideSite &HeadSite, bool CallsChanged, const DiffOptions &Options) {
  TimeDiff D;
  D.BaseTotal = meanOver(B.TotalByRun, Base.Runs);
  D.BaseSelf = meanOver(B.SelfByRun, Base.Runs);
  D.HeadTotal = meanOver(H.TotalByRun, Head.Runs);
  D.HeadSelf = meanOver(H.SelfByRun, Head.Runs);
  D.ChangeNs = D.HeadTotal - D.BaseTotal;
  D.SelfChangeNs = D.HeadSelf - D.BaseSelf;
  D.ChangePct = D.BaseTotal > 0 ? 100 * D.ChangeNs / D.BaseTotal : (D.HeadTotal > 0 ? INFINITY : 0);
  bool Shifted = true; // only counted calls: no distribution to test, the totals must speak
  if (!Calls.first.empty() && !Calls.second.empty()) {
    D.PValue = mannWhitneyP(std::move(Calls.first), std::move(Calls.second));
    Shifted = *D.PValue < Options.Alpha;
  }
  bool CallsSeparate = false; // a function cut off: its recorded calls' mean, run by run
  if (Base.Runs.size() > 1 && Head.Runs.size() > 1) {
    // A throttled function's call counts are estimates as well (its drawn calls times 64: ±8%
    // a run for 10 000 unrecorded calls), and a count that changed is judged apart: unless it
    // did, its runs are compared by their mean time of a call.
    bool ByCall = !CallsChanged && (!B.SamplingVarByRun.empty() || !H.SamplingVarByRun.empty());
    auto PerRun = [ByCall](const Series &Of, const SideSite &Site) {
      if (!ByCall)
        return Of.TotalByRun;
      std::map<int64_t, double> Mean;
      for (const auto &[Run, Total] : Of.TotalByRun)
        if (auto It = Site.CallsByRun.find(Run); It != Site.CallsByRun.end() && It->second > 0)
          Mean[Run] = Total / It->second;
      return Mean;
    };
    bool Up = D.ChangeNs > 0;
    D.RunsSeparate =
        runsSeparate(logsOver(PerRun(B, BaseSite), Base), logsOver(PerRun(H, HeadSite), Head), Up);
    // A function cut off: its recorded calls' mean speaks for its calls' speed, where its total
    // after the cut is a handful of samples; by more than the threshold, or it says nothing of
    // a change of the total that large.
    double BaseMean = meanOver(B.RecordedMeanByRun, Base.Runs),
           HeadMean = meanOver(H.RecordedMeanByRun, Head.Runs);
    CallsSeparate =
        BaseMean > 0 && HeadMean > 0 &&
        std::fabs(HeadMean / BaseMean - 1) * 100 > Options.ThresholdPct &&
        runsSeparate(logsOver(B.RecordedMeanByRun, Base), logsOver(H.RecordedMeanByRun, Head), Up);
    D.RunsSeparate = D.RunsSeparate || CallsSeparate;
  }
  // A throttled function's totals are estimates: a change within three standard errors of
  // sampling is chance (drawn calls that met an interrupt, weighted 64 each; CPU samples of a
  // function cut off), however the runs fall.
  auto MeanVar = [](const std::map<int64_t, double> &ByRun, const std::vector<int64_t> &Runs) {
    double Sum = 0;
    for (int64_t Run : Runs)
      if (auto It = ByRun.find(Run); It != ByRun.end())
        Sum += It->second;
    return Runs.empty() ? 0 : Sum / static_cast<double>(Runs.size() * Runs.size());
  };
  D.SamplingErrorNs = std::sqrt(
      MeanVar(B.SamplingVarByRun, Base.Runs) + MeanVar(H.SamplingVarByRun, Head.Runs) +
      MeanVar(B.CutSamplesVarByRun, Base.Runs) + MeanVar(H.CutSamplesVarByRun, Head.Runs));
  // Calls that all got slower are no chance of sampling: the total's change is then the best
  // estimate of its size, however few samples it rests on.
  bool BeyondSampling = std::fabs(D.ChangeNs) > 3 * D.SamplingErrorNs || CallsSeparate;
  D.BeyondNoise = (Shifted || CallsChanged) && D.RunsSeparate && BeyondSampling;
  bool Large =
      std::fabs(D.ChangePct) > Options.ThresholdPct && std::fabs(D.ChangeNs) > Options.MinTimeNs;
  if (D.BeyondNoise && Large)
    D.Result = D.ChangeNs > 0 ? Regression : Improvement;
  return D;
}

/// A per-call figure as the exact fraction it is: counts over calls.
struct PerCall {
  int64_t Num = 0, Calls = 0;
};

/// -1, 0, 1 as A's per-call figure is below, equal to or above B's, exactly (128-bit cross
/// products: bytes times calls can pass 2^63).
int comparePerCall(const PerCall &A, const PerCall &B) {
  __extension__ using Wide = __int128;
  Wide L = static_cast<Wide>(A.Num) * B.Calls, R = static_cast<Wide>(B.Num) * A.Calls;
  return L < R ? -1 : L > R ? 1 : 0;
}

/// Compares one allocation figure of a site (allocations, bytes): -1 fewer, 1 more, 0 the same
/// or not separable. \p Of picks the figure of a run.
template <typename Figure>
int allocChange(const SideSite &B, const SideSite &H, const RunSet &Base, const RunSet &Head,
                Figure Of, bool &Varies) {
  auto Pooled = [&](const SideSite &S, const RunSet &Side) {
    PerCall P;
    for (int64_t Run : Side.Runs)
      if (auto It = S.AllocByRun.find(Run); It != S.AllocByRun.end()) {
        P.Num += Of(It->second);
        P.Calls += It->second.Calls;
      }
    return P;
  };
  auto Runs = [&](const SideSite &S, const RunSet &Side) {
    std::vector<PerCall> Out;
    for (int64_t Run : Side.Runs)
      if (auto It = S.AllocByRun.find(Run); It != S.AllocByRun.end() && It->second.Calls > 0)
        Out.push_back({Of(It->second), It->second.Calls});
    return Out;
  };
  int Change = comparePerCall(Pooled(H, Head), Pooled(B, Base));
  auto BRuns = Runs(B, Base), HRuns = Runs(H, Head);
  auto Agree = [](const std::vector<PerCall> &V) {
    return std::all_of(V.begin(), V.end(),
                       [&](const PerCall &P) { return comparePerCall(P, V.front()) == 0; });
  };
  if (Agree(BRuns) && Agree(HRuns))
    return Change;
  // Allocations that differ from run to run on one side: only a change that separates every
  // head run from every base run is the code's, not the run's.
  Varies = true;
  for (const auto &HR : HRuns)
    for (const auto &BR : BRuns)
      if (comparePerCall(HR, BR) != Change)
        return 0;
  return Change;
}

std::optional<AllocDiff> compareAllocs(const SideSite &B, const SideSite &H, const RunSet &Base,
                                       const RunSet &Head) {
  if (B.AllocByRun.empty() || H.AllocByRun.empty())
    return std::nullopt;
  AllocDiff D;
  auto Fill = [&](const SideSite &S, const RunSet &Side, double &Calls, double &Allocs,
                  double &Bytes, double &SelfBytes) {
    double A = 0, By = 0, Self = 0;
    for (int64_t Run : Side.Runs) {
      auto It = S.AllocByRun.find(Run);
      // A run that called the function without counting a single call is no exact figure; a
      // run that did not call it says nothing either way.
      D.Exact = D.Exact && (It == S.AllocByRun.end() ? !S.CallsByRun.count(Run) : It->second.Exact);
      if (It == S.AllocByRun.end())
        continue;
      Calls += static_cast<double>(It->second.Calls);
      A += static_cast<double>(It->second.Allocs);
      By += static_cast<double>(It->second.Bytes);
      Self += static_cast<double>(It->second.SelfBytes);
    }
    Allocs = Calls > 0 ? A / Calls : 0;
    Bytes = Calls > 0 ? By / Calls : 0;
    SelfBytes = Calls > 0 ? Self / Calls : 0;
  };
  Fill(B, Base, D.BaseCalls, D.BaseAllocs, D.BaseBytes, D.BaseSelfBytes);
  Fill(H, Head, D.HeadCalls, D.HeadAllocs, D.HeadBytes, D.HeadSelfBytes);
  int Allocs = allocChange(
      B, H, Base, Head, [](const AllocRun &A) { return A.Allocs; }, D.Varies);
  int Bytes = allocChange(
      B, H, Base, Head, [](const AllocRun &A) { return A.Bytes; }, D.Varies);
  D.Changed = Allocs || Bytes;
  // More of either is a regression, even when the other fell (fewer, larger blocks).
  if (D.Exact && D.Changed)
    D.Result = Allocs > 0 || Bytes > 0 ? Regression : Improvement;
  return D;
}

} // namespace

double mannWhitneyP(std::vector<double> A, std::vector<double> B) {
  double N1 = static_cast<double>(A.size()), N2 = static_cast<double>(B.size());
  if (A.empty() || B.empty())
    return 1;
  std::vector<std::pair<double, int>> All;
  for (double V : A)
    All.push_back({V, 0});
  for (double V : B)
    All.push_back({V, 1});
  std::sort(All.begin(), All.end());
  double RankSumA = 0, TieTerm = 0, N = N1 + N2;
  for (size_t I = 0; I < All.size();) {
    size_t J = I;
    while (J < All.size() && All[J].first == All[I].first)
      ++J;
    double Rank = (static_cast<double>(I + 1) + static_cast<double>(J)) / 2; // average rank of ties
    for (size_t K = I; K < J; ++K)
      if (All[K].second == 0)
        RankSumA += Rank;
    double T = static_cast<double>(J - I);
    TieTerm += T * T * T - T;
    I = J;
  }
  double U = RankSumA - N1 * (N1 + 1) / 2;
  double Variance = N1 * N2 / 12 * ((N + 1) - TieTerm / (N * (N - 1)));
  if (Variance <= 0)
    return 1; // every value equal
  double Z = (U - N1 * N2 / 2) / std::sqrt(Variance);
  return std::erfc(std::fabs(Z) / std::sqrt(2.0));
}

DiffResult diffRuns(const RunSet &Base, const RunSet &Head, const DiffOptions &Options) {
  DiffResult Out;
  Out.BaseCpu = everyRunHas(Base, "switches_since_ns IS NOT NULL");
  Out.HeadCpu = everyRunHas(Head, "switches_since_ns IS NOT NULL");
  Out.BaseMemory = everyRunHas(Base, "counts_memory = 1");
  Out.HeadMemory = everyRunHas(Head, "counts_memory = 1");
  bool WithCpu = Out.BaseCpu && Out.HeadCpu, WithMemory = Out.BaseMemory && Out.HeadMemory;
  auto BaseSites = readSide(Base, WithCpu, WithMemory);
  auto HeadSites = readSide(Head, WithCpu, WithMemory);
  addCutSamplesVariance(Base, BaseSites);
  addCutSamplesVariance(Head, HeadSites);
  struct Matched {
    const std::string *Key;
    SideSite *B, *H;
    Sampled Wall, Cpu;
    bool CompareCpu = false;
  };
  std::vector<Matched> Pairs;
  std::vector<std::vector<double>> WallVoters, CpuVoters;
  // Samples both sides' calls of a measure that both recorded, and lets the site vote.
  auto Sample = [&](Matched &M, const Measure &Of, Sampled &S, auto &Voters) {
    if (!(M.B->*Of.Of).Recorded || !(M.H->*Of.Of).Recorded)
      return;
    S = {sampleCalls(Base, *M.B, Of), sampleCalls(Head, *M.H, Of)};
    if (auto Medians = runMedians(S, *M.B, *M.H, Base, Head))
      Voters.push_back(std::move(*Medians));
  };
  for (auto &[Key, B] : BaseSites) {
    auto It = HeadSites.find(Key);
    if (It == HeadSites.end()) {
      Out.Removed.push_back(describe(Key, B, Base.Runs, false));
      continue;
    }
    Matched M{&Key, &B, &It->second, {}, {}, false};
    Sample(M, WallTime, M.Wall, WallVoters);
    M.CompareCpu = WithCpu && B.CpuComplete && M.H->CpuComplete;
    if (M.CompareCpu)
      Sample(M, CpuTime, M.Cpu, CpuVoters);
    Pairs.push_back(std::move(M));
  }
  MachineSpeed WallSpeed = machineSpeed(WallVoters, Base, Head, Options),
               CpuSpeed = machineSpeed(CpuVoters, Base, Head, Options);
  Out.Wall = WallSpeed.Summary;
  Out.Cpu = CpuSpeed.Summary;

  for (auto &M : Pairs) {
    SideSite &B = *M.B, &H = *M.H;
    SiteDiff D = describe(*M.Key, B, Base.Runs, false);
    D.HeadCalls = meanOver(H.CallsByRun, Head.Runs);
    // Clearly more or fewer calls are beyond noise whatever the times of each.
    bool CallsChanged = !B.CountsCut && !H.CountsCut &&
                        std::fabs(D.HeadCalls - D.BaseCalls) >
                            Options.ThresholdPct / 100 * std::max(D.BaseCalls, 1.0);
    D.Wall = compareTimes(B.Wall, H.Wall, settle(Base, B, Head, H, WallTime, M.Wall, WallSpeed),
                          Base, B, Head, H, CallsChanged, Options);
    Out.Regressions += D.Wall.Result == Regression;
    Out.Improvements += D.Wall.Result == Improvement;
    if (M.CompareCpu && B.Cpu.Recorded && H.Cpu.Recorded) {
      D.Cpu = compareTimes(B.Cpu, H.Cpu, settle(Base, B, Head, H, CpuTime, M.Cpu, CpuSpeed), Base,
                           B, Head, H, CallsChanged, Options);
      Out.CpuRegressions += D.Cpu->Result == Regression;
      Out.CpuImprovements += D.Cpu->Result == Improvement;
    }
    D.Allocs = compareAllocs(B, H, Base, Head);
    if (D.Allocs) {
      Out.AllocRegressions += D.Allocs->Result == Regression;
      Out.AllocImprovements += D.Allocs->Result == Improvement;
    }
    Out.Sites.push_back(std::move(D));
  }
  for (const auto &[Key, H] : HeadSites)
    if (!BaseSites.count(Key))
      Out.Added.push_back(describe(Key, H, Head.Runs, true));
  // Where CPU times were compared, by the change of self CPU time: a thread pool's worker whose
  // own wall time is waiting for work moved by 20 ms between runs of one build, more than the
  // function made four times slower in head that it waited for.
  auto RankBy = [](const SiteDiff &D) {
    return std::fabs(D.Cpu ? D.Cpu->SelfChangeNs : D.Wall.SelfChangeNs);
  };
  auto Order = [&RankBy](const SiteDiff &A, const SiteDiff &B) {
    if (A.Wall.Result != B.Wall.Result)
      return A.Wall.Result == Regression ||
             (A.Wall.Result == Improvement && B.Wall.Result == Unchanged);
    return RankBy(A) > RankBy(B);
  };
  std::sort(Out.Sites.begin(), Out.Sites.end(), Order);
  auto ByTotal = [](const SiteDiff &A, const SiteDiff &B) {
    return std::max(A.Wall.HeadTotal, A.Wall.BaseTotal) >
           std::max(B.Wall.HeadTotal, B.Wall.BaseTotal);
  };
  std::sort(Out.Added.begin(), Out.Added.end(), ByTotal);
  std::sort(Out.Removed.begin(), Out.Removed.end(), ByTotal);
  return Out;
}

} // namespace scopeprof::db
