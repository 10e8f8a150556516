// Diff: per-run totals decide the size of a change; per-call durations and the spread between
// runs decide whether it is beyond noise.
#include "Diff.h"

#include "Stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace scopeprof::db {
namespace {

/// Durations kept per site and side for the rank test: enough for a tight test, bounded memory.
constexpr size_t SampleSize = 2000;

/// Functions that vote on the machine factor: enough recorded calls, long enough that the
/// measurement's own cost does not dominate.
constexpr int64_t FactorMinCalls = 20;
constexpr double FactorMinMeanNs = 100;

struct SideSite {
  std::string Signature, Location;
  std::map<int64_t, int64_t> SiteIdByRun;
  std::map<int64_t, double> TotalByRun, CallsByRun, SelfByRun;
  int64_t Recorded = 0;
};

/// " AND case_id IN (...)": the side's selected cases (ids are unique across runs), or "" when
/// the side compares all calls.
std::string casesOf(const RunSet &Side) {
  if (Side.Cases.empty())
    return "";
  CallFilter Filter;
  Filter.Cases.emplace();
  for (const auto &[Run, Ids] : Side.Cases)
    Filter.Cases->insert(Filter.Cases->end(), Ids.begin(), Ids.end());
  return Filter.casesClause();
}

/// The side's statistics computed from its selected cases' calls, not read from site_stats.
std::map<std::string, SideSite> readCaseSide(const RunSet &Side) {
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
      Site.TotalByRun[Run] = static_cast<double>(St.TotalNs);
      Site.SelfByRun[Run] = static_cast<double>(St.SelfNs);
      Site.Recorded += St.Recorded;
    }
  }
  return Sites;
}

std::map<std::string, SideSite> readSide(const RunSet &Side) {
  if (!Side.Cases.empty())
    return readCaseSide(Side);
  std::map<std::string, SideSite> Sites;
  auto S = Side.Db->prepare(
      "SELECT s.site_key, s.signature, s.file || ':' || s.line, st.site_id, st.calls, st.total_ns, "
      "st.self_ns, st.recorded_calls FROM site_stats st JOIN sites s ON s.id = st.site_id "
      "WHERE st.run_id=?1");
  for (int64_t Run : Side.Runs) {
    S.bind(1, Run);
    while (S.step()) {
      SideSite &Site = Sites[S.text(0)];
      Site.Signature = S.text(1);
      Site.Location = S.text(2);
      Site.SiteIdByRun[Run] = S.integer(3);
      Site.CallsByRun[Run] = static_cast<double>(S.integer(4));
      Site.TotalByRun[Run] = static_cast<double>(S.integer(5));
      Site.SelfByRun[Run] = static_cast<double>(S.integer(6));
      Site.Recorded += S.integer(7);
    }
    S.reset();
  }
  return Sites;
}

/// A uniform sample of the site's recorded durations over the side's runs (reservoir sampling
/// with a fixed seed: the same databases always give the same answer).
std::vector<double> sampleDurations(const RunSet &Side, const SideSite &Site) {
  std::vector<double> Sample;
  std::mt19937_64 Random(42);
  uint64_t Seen = 0;
  auto S = Side.Db->prepare("SELECT duration_ns FROM calls WHERE run_id=?1 AND site_id=?2" +
                            casesOf(Side));
  for (const auto &[Run, SiteId] : Site.SiteIdByRun) {
    S.bind(1, Run).bind(2, SiteId);
    while (S.step()) {
      auto V = static_cast<double>(S.integer(0));
      if (Sample.size() < SampleSize)
        Sample.push_back(V);
      else if (uint64_t Slot = Random() % (Seen + 1); Slot < SampleSize)
        Sample[Slot] = V;
      ++Seen;
    }
    S.reset();
  }
  return Sample;
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

/// Takes out of each run's total the part of its calls beyond \p Cap (a preempted call holds
/// milliseconds of somebody else's work; pooled, one stall outweighs thousands of calls).
void capStalls(const RunSet &Side, SideSite &Site, double Cap) {
  auto S = Side.Db->prepare("SELECT total((duration_ns - ?3) * weight) FROM calls "
                            "WHERE run_id=?1 AND site_id=?2 AND duration_ns > ?3" +
                            casesOf(Side));
  for (const auto &[Run, SiteId] : Site.SiteIdByRun) {
    S.bind(1, Run).bind(2, SiteId).bind(3, Cap);
    if (S.step())
      Site.TotalByRun[Run] = std::max(0.0, Site.TotalByRun[Run] - S.real(0));
    S.reset();
  }
}

double meanOver(const std::map<int64_t, double> &ByRun, const std::vector<int64_t> &Runs) {
  double Sum = 0;
  for (int64_t Run : Runs)
    if (auto It = ByRun.find(Run); It != ByRun.end())
      Sum += It->second;
  return Runs.empty() ? 0 : Sum / static_cast<double>(Runs.size());
}

std::pair<double, double> rangeOver(const std::map<int64_t, double> &ByRun,
                                    const std::vector<int64_t> &Runs) {
  double Lo = INFINITY, Hi = -INFINITY;
  for (int64_t Run : Runs) {
    auto It = ByRun.find(Run);
    double V = It == ByRun.end() ? 0 : It->second;
    Lo = std::min(Lo, V);
    Hi = std::max(Hi, V);
  }
  return {Lo, Hi};
}

/// Fills one side of \p D (means per run over \p Runs); the head side is divided by \p Factor.
void fillSide(SiteDiff &D, const SideSite &Site, const std::vector<int64_t> &Runs, bool IsHead,
              double Factor = 1) {
  D.Signature = Site.Signature;
  D.Location = Site.Location;
  (IsHead ? D.HeadCalls : D.BaseCalls) = meanOver(Site.CallsByRun, Runs);
  (IsHead ? D.HeadTotal : D.BaseTotal) = meanOver(Site.TotalByRun, Runs) / Factor;
  (IsHead ? D.HeadSelf : D.BaseSelf) = meanOver(Site.SelfByRun, Runs) / Factor;
}

SiteDiff describe(const std::string &Key, const SideSite &Site, const std::vector<int64_t> &Runs,
                  bool IsHead) {
  SiteDiff D;
  D.Key = Key;
  fillSide(D, Site, Runs, IsHead);
  return D;
}

double mean(const std::vector<double> &V) {
  double Sum = 0;
  for (double X : V)
    Sum += X;
  return V.empty() ? 0 : Sum / static_cast<double>(V.size());
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
  auto BaseSites = readSide(Base), HeadSites = readSide(Head);
  DiffResult Out;
  struct Matched {
    const std::string *Key;
    const SideSite *B, *H;
    std::vector<double> BaseSample, HeadSample;
  };
  std::vector<Matched> Pairs;
  std::vector<double> Ratios;
  for (auto &[Key, B] : BaseSites) {
    auto It = HeadSites.find(Key);
    if (It == HeadSites.end()) {
      Out.Removed.push_back(describe(Key, B, Base.Runs, false));
      continue;
    }
    Matched M{&Key, &B, &It->second, {}, {}};
    if (B.Recorded && M.H->Recorded) {
      M.BaseSample = sampleDurations(Base, B);
      M.HeadSample = sampleDurations(Head, *M.H);
      std::vector<double> Pooled = M.BaseSample;
      Pooled.insert(Pooled.end(), M.HeadSample.begin(), M.HeadSample.end());
      double Cap = StallFactor * quantile(std::move(Pooled), 0.99);
      capStalls(Base, B, Cap);
      capStalls(Head, It->second, Cap);
      double BaseMean = mean(M.BaseSample), HeadMean = mean(M.HeadSample);
      if (B.Recorded >= FactorMinCalls && M.H->Recorded >= FactorMinCalls &&
          BaseMean >= FactorMinMeanNs && HeadMean > 0)
        Ratios.push_back(HeadMean / BaseMean);
    }
    Pairs.push_back(std::move(M));
  }
  // A busier or slower machine makes every function slower alike; one function's real
  // regression barely moves the median.
  if (Options.Normalize && Ratios.size() >= 3) {
    std::nth_element(Ratios.begin(), Ratios.begin() + static_cast<long>(Ratios.size() / 2),
                     Ratios.end());
    Out.MachineFactor = Ratios[Ratios.size() / 2];
    Out.FactorSites = Ratios.size();
  }
  double Factor = Out.MachineFactor;

  for (auto &M : Pairs) {
    const SideSite &B = *M.B, &H = *M.H;
    SiteDiff D = describe(*M.Key, B, Base.Runs, false);
    fillSide(D, H, Head.Runs, true, Factor);
    D.ChangeNs = D.HeadTotal - D.BaseTotal;
    D.SelfChangeNs = D.HeadSelf - D.BaseSelf;
    D.ChangePct =
        D.BaseTotal > 0 ? 100 * D.ChangeNs / D.BaseTotal : (D.HeadTotal > 0 ? INFINITY : 0);

    // Beyond noise: the calls themselves got slower or faster (rank test), or there are
    // clearly more or fewer of them; and, with several runs a side, the runs do not overlap.
    bool CallsChanged = std::fabs(D.HeadCalls - D.BaseCalls) >
                        Options.ThresholdPct / 100 * std::max(D.BaseCalls, 1.0);
    bool Shifted = true; // only counted calls: no distribution to test, the totals must speak
    if (!M.BaseSample.empty() && !M.HeadSample.empty()) {
      for (double &V : M.HeadSample)
        V /= Factor;
      D.PValue = mannWhitneyP(std::move(M.BaseSample), std::move(M.HeadSample));
      Shifted = *D.PValue < Options.Alpha;
    }
    if (Base.Runs.size() > 1 && Head.Runs.size() > 1) {
      // The run is the unit of replication: every head run beyond every base run, and the
      // change more than twice either side's spread from run to run. Three runs a side of
      // identical builds separate by chance one time in ten per function (2 of the 20 ways
      // to split six runs); a change that is only just past the spread is such a chance.
      auto [BLo, BHi] = rangeOver(B.TotalByRun, Base.Runs);
      auto [HLo, HHi] = rangeOver(H.TotalByRun, Head.Runs);
      double Spread = std::max(BHi - BLo, (HHi - HLo) / Factor);
      D.RunsSeparate = (D.ChangeNs > 0 ? HLo / Factor > BHi : HHi / Factor < BLo) &&
                       std::fabs(D.ChangeNs) > 2 * Spread;
    }
    D.BeyondNoise = (Shifted || CallsChanged) && D.RunsSeparate;
    bool Large =
        std::fabs(D.ChangePct) > Options.ThresholdPct && std::fabs(D.ChangeNs) > Options.MinTimeNs;
    if (D.BeyondNoise && Large)
      D.Result = D.ChangeNs > 0 ? SiteDiff::Regression : SiteDiff::Improvement;
    Out.Regressions += D.Result == SiteDiff::Regression;
    Out.Improvements += D.Result == SiteDiff::Improvement;
    Out.Sites.push_back(std::move(D));
  }
  for (const auto &[Key, H] : HeadSites)
    if (!BaseSites.count(Key))
      Out.Added.push_back(describe(Key, H, Head.Runs, true));
  auto Order = [](const SiteDiff &A, const SiteDiff &B) {
    if (A.Result != B.Result)
      return A.Result == SiteDiff::Regression ||
             (A.Result == SiteDiff::Improvement && B.Result == SiteDiff::Unchanged);
    return std::fabs(A.SelfChangeNs) > std::fabs(B.SelfChangeNs);
  };
  std::sort(Out.Sites.begin(), Out.Sites.end(), Order);
  auto ByTotal = [](const SiteDiff &A, const SiteDiff &B) {
    return std::max(A.HeadTotal, A.BaseTotal) > std::max(B.HeadTotal, B.BaseTotal);
  };
  std::sort(Out.Added.begin(), Out.Added.end(), ByTotal);
  std::sort(Out.Removed.begin(), Out.Removed.end(), ByTotal);
  return Out;
}

} // namespace scopeprof::db
