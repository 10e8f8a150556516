// Site statistics. Counted calls (under the duration threshold or the depth limit) add to
// calls, total and self time, and rank below the threshold in the percentiles; stddev, min and
// max describe the calls recorded one by one, and so do the CPU times (a counted call has
// none: its CPU time is in its caller's self CPU time, never counted twice). A sample of a
// throttled site adds the calls it stands for to calls and to every time.
#include "Stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>

namespace scopeprof::db {
namespace {

/// Damaged logs can hold absurd times; statistics saturate instead of overflowing.
int64_t addSaturating(int64_t A, int64_t B) {
  int64_t Out;
  return __builtin_add_overflow(A, B, &Out) ? (B > 0 ? INT64_MAX : INT64_MIN) : Out;
}

/// Solves A x = B by Gaussian elimination with partial pivoting; empty when A is singular.
std::vector<double> solveLinear(std::vector<std::vector<double>> A, std::vector<double> B) {
  size_t N = B.size();
  for (size_t Col = 0; Col < N; ++Col) {
    size_t Pivot = Col;
    for (size_t R = Col + 1; R < N; ++R)
      if (std::fabs(A[R][Col]) > std::fabs(A[Pivot][Col]))
        Pivot = R;
    if (std::fabs(A[Pivot][Col]) < 1e-9)
      return {};
    std::swap(A[Col], A[Pivot]);
    std::swap(B[Col], B[Pivot]);
    for (size_t R = Col + 1; R < N; ++R) {
      double F = A[R][Col] / A[Col][Col];
      if (F == 0)
        continue;
      for (size_t C = Col; C < N; ++C)
        A[R][C] -= F * A[Col][C];
      B[R] -= F * B[Col];
    }
  }
  std::vector<double> X(N);
  for (size_t I = N; I-- > 0;) {
    double Sum = B[I];
    for (size_t C = I + 1; C < N; ++C)
      Sum -= A[I][C] * X[C];
    X[I] = Sum / A[I][I];
  }
  return X;
}

/// What a site's recorded calls had outside their recorded children, once each (a sample of a
/// throttled site is one call here): CPU and wall time compensated, and CPU time raw.
struct ExclusiveTime {
  double Cpu = 0, Wall = 0, Raw = 0;
};

/// Own times from the CPU samples (docs/runtime.md, "CPU samples"). A recorded call's self time
/// (its duration less its recorded children's, compensated) is exact, but it holds the calls
/// made under it that were not recorded: those of throttled sites. Per site of the innermost
/// recorded call, that time is shared out among the sites the samples taken inside it found
/// innermost, in proportion to their samples; what no recorded call covers is the samples' own
/// figure. A sample's site is the function at its address where the loader found one. What a
/// scope costs inside real code is not what it costs in a calibration loop (docs/runtime.md):
/// the samples in scopeprof's own code say it, and their share is taken out; in older logs,
/// without addresses, a throttled call's scope stays in its samples. Only where
/// every thread of the filter was sampled and no call was only counted (a counted call's time
/// is in its parent's self time while its samples name it: the shares would not add up); the
/// CPU time of each site's own recorded calls is split, their waiting stays their own.
template <typename BindFn>
void splitByCpuSamples(Database &Db, const CallFilter &Filter, BindFn BindFilter,
                       std::map<int64_t, SiteStats> &Sites,
                       const std::map<int64_t, ExclusiveTime> &Exclusive) {
  std::string Threads = std::string("t.run_id=?1") + (Filter.Pid ? " AND t.pid=?2" : "") +
                        (Filter.Tid ? " AND t.tid=?3" : "");
  auto Unsampled = Db.prepare("SELECT 1 FROM threads t WHERE " + Threads +
                              " AND (t.cpu_sample_ns IS NULL OR EXISTS (SELECT 1 FROM counted c "
                              "WHERE c.thread_id = t.id)) LIMIT 1");
  BindFilter(Unsampled);
  if (Filter.Raw || Unsampled.step())
    return;
  struct Share {
    int64_t Site;
    double Weight;
  };
  std::map<int64_t, std::vector<Share>> ByRecorded; ///< samples inside recorded calls, by site
  std::map<int64_t, double> Own;                    ///< CPU ns by site
  // A sample in scopeprof's own code is the measurement's: its share of the recorded call it
  // fell in is nobody's.
  constexpr int64_t MeasurementSite = -1;
  // A sample outside every recorded or marked call that its address charged to a function no
  // process of the run had cut off by then counts for nobody: that function's calls were off by
  // choice (rules, recording switched off), not for their cost. (Any process: a forked child
  // inherits its parent's cuts without writing them again.)
  auto Samples = Db.prepare(
      "SELECT CASE WHEN s.in_scopeprof THEN -1 ELSE s.site_id END, s.recorded_site_id, "
      "total(s.weight), total(s.weight * t.cpu_sample_ns) FROM cpu_samples s JOIN threads t ON "
      "t.id = s.thread_id WHERE " + Threads + Filter.casesClause("s.case_id") +
      " AND (s.recorded_site_id IS NOT NULL OR NOT s.by_address OR EXISTS (SELECT 1 FROM "
      "throttled c WHERE c.run_id = s.run_id AND c.site_id = s.site_id AND NOT c.sampled AND "
      "c.at_ns <= s.at_ns)) GROUP BY 1, 2");
  BindFilter(Samples);
  while (Samples.step()) {
    if (Samples.isNull(1))
      Own[Samples.integer(0)] += Samples.real(3);
    else
      ByRecorded[Samples.integer(1)].push_back({Samples.integer(0), Samples.real(2)});
  }
  for (const auto &[Site, Time] : Exclusive) {
    auto It = ByRecorded.find(Site);
    // No sample inside found another function: nothing unrecorded ran there, and the measured,
    // compensated self time is exact.
    if (It == ByRecorded.end() ||
        std::all_of(It->second.begin(), It->second.end(), [Site = Site](const Share &S) {
          return S.Site == Site || S.Site == MeasurementSite;
        })) {
      Own[Site] += Time.Cpu;
      continue;
    }
    // Where samples found scopeprof's code inside a site's calls, they measured what the scopes
    // cost there: the calls' raw time is shared out, not the time compensated by the calibrated
    // cost, which would take it out twice. Where none did (no address, no debug information, or
    // too few samples to catch it), the compensated time.
    double Total = 0;
    bool Measured = false;
    for (const Share &S : It->second) {
      Total += S.Weight;
      Measured = Measured || S.Site == MeasurementSite;
    }
    double CpuNs = Measured ? Time.Raw : Time.Cpu;
    // A function with no call in the filter (a throttled one none of whose calls was drawn)
    // has no row to show its share in: the recorded call keeps it, as without samples.
    for (const Share &S : It->second)
      Own[S.Site == MeasurementSite || Sites.count(S.Site) ? S.Site : Site] += CpuNs * S.Weight / Total;
  }
  for (auto &[Site, St] : Sites) {
    double Cpu = Own[Site];
    auto Mine = Exclusive.find(Site);
    double Waiting = Mine == Exclusive.end() ? 0 : std::max(0.0, Mine->second.Wall - Mine->second.Cpu);
    St.SelfCpuNs = static_cast<int64_t>(Cpu);
    St.SelfNs = static_cast<int64_t>(Cpu + Waiting);
    // Not the calls' weighted waits: a drawn call that waited 4 ms would count 64 times over.
    St.SelfWaitNs = static_cast<int64_t>(Waiting);
    // A throttled function's total is its drawn calls' estimate, its own time the samples':
    // two estimates, and a call's time holds its own.
    St.TotalNs = std::max(St.TotalNs, St.SelfNs);
    if (St.CpuCalls)
      St.CpuNs = std::max(St.CpuNs, St.SelfCpuNs);
    St.OwnFromCpuSamples = true;
  }
}

/// The calls a throttled site's samples stand for were made but not recorded: their time is in
/// their callers' self time. Per (caller site, sampled site), the samples under the caller's
/// calls count how many were hidden there (63 for each sample: every call had a 1 in 64 chance),
/// and each hid the sampled site's mean own time. A sample's own time is its self time less the
/// hidden calls under it, so the means come from a linear system over the sampled sites.
/// Means over all of a site's samples, not each sample's own figure: a product of two rare
/// samples would weigh 63 x 63 and make the estimate useless. The bytes the hidden calls
/// allocated are in their callers' self_alloc_bytes too (a call's counts are its thread's
/// counters moving while it is open) and come out the same way, so that the throttled
/// function keeps its bytes and its callers do not count them a second time.
template <typename BindFn>
void subtractUnsampled(Database &Db, const CallFilter &Filter, BindFn BindFilter,
                       const std::string &Self, std::map<int64_t, SiteStats> &Sites) {
  // The filter's columns, of the sampled call (c).
  std::string Where = std::string("c.run_id=?1") + (Filter.Pid ? " AND c.pid=?2" : "") +
                      (Filter.Tid ? " AND c.tid=?3" : "") + Filter.casesClause("c.case_id");
  struct Sampled {
    double Samples = 0, SelfNs = 0, SelfCpuNs = 0, CpuSamples = 0, SelfBytes = 0, ByteSamples = 0;
    double OwnNs = 0, OwnCpuNs = 0, OwnBytes = 0; ///< mean own time and bytes of one call
  };
  std::map<int64_t, Sampled> BySite;
  auto Own = Db.prepare("SELECT c.site_id, count(*), total(c." + Self + "), total(c.self_cpu_ns), "
                        "count(c.self_cpu_ns), total(c.self_alloc_bytes), "
                        "count(c.self_alloc_bytes) FROM calls c WHERE " + Where +
                        " AND c.weight > 1 GROUP BY c.site_id");
  BindFilter(Own);
  while (Own.step())
    BySite[Own.integer(0)] = {Own.real(1), Own.real(2), Own.real(3),
                              Own.real(4), Own.real(5), Own.real(6)};
  if (BySite.empty())
    return;
  struct Hidden {
    int64_t Caller, Callee;
    double CallerWeight, Calls; ///< calls hidden under the caller's recorded calls
  };
  std::vector<Hidden> Pairs;
  auto Under = Db.prepare("SELECT p.site_id, c.site_id, p.weight, total(c.weight - 1) FROM calls c "
                          "JOIN calls p ON p.id = c.parent_id WHERE " + Where +
                          " AND c.weight > 1 GROUP BY 1, 2, 3");
  BindFilter(Under);
  while (Under.step())
    Pairs.push_back({Under.integer(0), Under.integer(1), Under.real(2), Under.real(3)});
  // For each sampled function Y: samples(Y) x own(Y) + sum over Z of hidden(Y, Z) x own(Z)
  // = self time of Y's samples. A linear system (recursion through several functions makes it
  // one), solved directly.
  std::map<int64_t, size_t> Row;
  for (const auto &[Site, S] : BySite)
    Row.emplace(Site, Row.size());
  size_t N = Row.size();
  std::vector<std::vector<double>> A(N, std::vector<double>(N, 0));
  std::vector<double> B(N), BCpu(N), BBytes(N);
  for (const auto &[Site, S] : BySite) {
    A[Row[Site]][Row[Site]] = S.Samples;
    B[Row[Site]] = S.SelfNs;
    // Samples without a CPU time count with their wall time, so both sides cover the same calls.
    BCpu[Row[Site]] = S.SelfCpuNs + (S.Samples - S.CpuSamples) * (S.SelfNs / S.Samples);
    // Samples without counts (a thread that did not count) as the mean of those with them.
    BBytes[Row[Site]] = S.ByteSamples ? S.SelfBytes * S.Samples / S.ByteSamples : 0;
  }
  for (const Hidden &H : Pairs)
    if (H.CallerWeight > 1 && Row.count(H.Caller))
      A[Row[H.Caller]][Row[H.Callee]] += H.Calls;
  std::vector<double> OwnNs = solveLinear(A, B), OwnCpuNs = solveLinear(A, BCpu),
                      OwnBytes = solveLinear(A, BBytes);
  for (auto &[Site, S] : BySite) {
    // Unsolvable, or noise taking it below zero: the samples' own figure, or nothing.
    size_t I = Row[Site];
    S.OwnNs = OwnNs.empty() ? S.SelfNs / S.Samples : std::max(0.0, OwnNs[I]);
    S.OwnCpuNs = OwnCpuNs.empty() ? S.OwnNs : std::max(0.0, OwnCpuNs[I]);
    S.OwnBytes = OwnBytes.empty() ? BBytes[I] / S.Samples : std::max(0.0, OwnBytes[I]);
  }
  for (const Hidden &H : Pairs) {
    auto It = Sites.find(H.Caller);
    if (It == Sites.end())
      continue;
    const Sampled &Callee = BySite[H.Callee];
    // An estimate larger than what is left (the drawn calls' mean can be high by chance) leaves
    // nothing, not a negative time.
    auto Less = [](int64_t &Ns, double Estimate) {
      Ns = std::max<int64_t>(0, Ns - static_cast<int64_t>(Estimate));
    };
    Less(It->second.RawSelfNs, H.CallerWeight * H.Calls * Callee.OwnNs);
    // Times the CPU samples split are whole already (splitByCpuSamples).
    if (!It->second.OwnFromCpuSamples) {
      Less(It->second.SelfNs, H.CallerWeight * H.Calls * Callee.OwnNs);
      Less(It->second.SelfCpuNs, H.CallerWeight * H.Calls * Callee.OwnCpuNs);
      Less(It->second.SelfWaitNs,
           H.CallerWeight * H.Calls * std::max(0.0, Callee.OwnNs - Callee.OwnCpuNs));
    }
    // Only where the caller's calls counted allocations (set before this is called).
    if (It->second.AllocCalls)
      It->second.SelfAllocBytes = std::max<int64_t>(
          0, It->second.SelfAllocBytes -
                 static_cast<int64_t>(std::llround(H.CallerWeight * H.Calls * Callee.OwnBytes)));
  }
}

} // namespace

std::string CallFilter::casesClause(const std::string &Column) const {
  if (!Cases)
    return "";
  std::string List;
  for (int64_t Id : *Cases)
    List += (List.empty() ? "" : ",") + std::to_string(Id);
  return " AND " + Column + " IN (" + List + ")";
}

std::vector<SiteStats> computeSiteStats(Database &Db, int64_t Run, const CallFilter &Filter) {
  std::string Where = "run_id=?1";
  if (Filter.Pid)
    Where += " AND pid=?2";
  if (Filter.Tid)
    Where += " AND tid=?3";
  Where += Filter.casesClause();
  auto bindFilter = [&](Statement &S) {
    S.bind(1, Run);
    if (Filter.Pid)
      S.bind(2, *Filter.Pid);
    if (Filter.Tid)
      S.bind(3, *Filter.Tid);
  };

  const std::string Duration = Filter.Raw ? "raw_duration_ns" : "duration_ns";
  const std::string Self = Filter.Raw ? "raw_self_ns" : "self_ns";
  struct Recorded {
    double TotalNs = 0, SumSquares = 0;
  };
  std::map<int64_t, SiteStats> Sites;
  std::map<int64_t, Recorded> Sums;
  /// Per site, the CPU and wall time its recorded calls had outside their recorded children, once
  /// each (a sample of a throttled site is one call here).
  std::map<int64_t, ExclusiveTime> Exclusive;
  // A sample of a throttled site stands for `weight` calls.
  auto Group = Db.prepare(
      // total(), not sum(): a float that cannot overflow, whatever a damaged log held.
      "SELECT site_id, count(*), sum(broken), total(weight * " + Duration + "), total(weight * " +
      Self + "), min(" + Duration + "), max(" + Duration + "), total(CAST(" + Duration +
      " AS REAL) * " + Duration +
      "), total(weight * raw_duration_ns), total(weight * raw_self_ns), count(cpu_ns), "
      "total(weight * cpu_ns), total(weight * self_cpu_ns), total(weight * (duration_ns - "
      "cpu_ns)), total(weight * (self_ns - self_cpu_ns)), count(self_cpu_ns), total(" +
      Duration + "), total(weight) - count(*), total(coalesce(self_cpu_ns, self_ns)), "
      "total(self_ns), total(coalesce(self_cpu_ns, self_ns) + raw_self_ns - self_ns) "
      "FROM calls WHERE " + Where + " GROUP BY site_id");
  bindFilter(Group);
  while (Group.step()) {
    SiteStats &St = Sites[Group.integer(0)];
    St.Recorded = Group.integer(1);
    St.Broken = Group.integer(2);
    St.TotalNs = Group.integer(3);
    St.SelfNs = Group.integer(4);
    St.MinNs = Group.integer(5);
    St.MaxNs = Group.integer(6);
    St.RawTotalNs = Group.integer(8);
    St.RawSelfNs = Group.integer(9);
    St.CpuCalls = Group.integer(10);
    St.CpuNs = Group.integer(11);
    St.SelfCpuNs = Group.integer(12);
    St.WaitNs = Group.integer(13);
    St.SelfWaitNs = Group.integer(14);
    St.SelfCpuCalls = Group.integer(15);
    St.Estimated = Group.integer(17);
    Sums[Group.integer(0)] = {Group.real(16), Group.real(7)};
    Exclusive[Group.integer(0)] = {Group.real(18), Group.real(19), Group.real(20)};
  }
  // Allocations: only where a thread counted them, so a run without them costs no table scan
  // (the calls_by_site index does not cover them).
  auto Counting = Db.prepare("SELECT 1 FROM threads WHERE run_id=?1 AND counts_memory LIMIT 1");
  Counting.bind(1, Run);
  if (Counting.step()) {
    auto Memory = Db.prepare("SELECT site_id, count(allocs), total(weight * allocs), "
                             "total(weight * alloc_bytes), total(weight * self_alloc_bytes), "
                             "count(peak_bytes), total(weight * peak_bytes), max(peak_bytes) "
                             "FROM calls WHERE " + Where + " AND allocs IS NOT NULL GROUP BY site_id");
    bindFilter(Memory);
    while (Memory.step()) {
      SiteStats &St = Sites[Memory.integer(0)];
      St.AllocCalls = Memory.integer(1);
      St.Allocs = Memory.integer(2);
      St.AllocBytes = Memory.integer(3);
      St.SelfAllocBytes = Memory.integer(4);
      St.PeakCalls = Memory.integer(5);
      St.PeakBytes = Memory.integer(6);
      St.MaxPeakBytes = Memory.integer(7);
    }
  }
  // A throttled site has a row even without a call here (a fork child inherits its parent's
  // cuts and records none), for the samples that found it and the note that it was cut.
  auto Throttled = Db.prepare(
      "SELECT t.site_id, sum(t.after_calls), min(t.sampled) FROM throttled t JOIN processes p "
      "ON p.id = t.process_id WHERE t.run_id=?1" +
      std::string(Filter.Pid ? " AND p.pid=?2" : "") + " GROUP BY t.site_id");
  Throttled.bind(1, Run);
  if (Filter.Pid)
    Throttled.bind(2, *Filter.Pid);
  while (Throttled.step()) {
    SiteStats &St = Sites[Throttled.integer(0)];
    St.Throttled = true;
    St.ThrottledAfter = Throttled.integer(1);
    St.CutOff = Throttled.integer(2) == 0;
  }
  splitByCpuSamples(Db, Filter, bindFilter, Sites, Exclusive);
  subtractUnsampled(Db, Filter, bindFilter, Self, Sites);
  // Counted calls have no interval, so no case: a case's figures are its recorded calls.
  auto Counted = Db.prepare(
      "SELECT c.site_id, total(c.calls), total(c.total_ns) FROM counted c JOIN threads t "
      "ON t.id = c.thread_id WHERE c.run_id=?1" +
      std::string(Filter.Pid ? " AND t.pid=?2" : "") + (Filter.Tid ? " AND t.tid=?3" : "") +
      (Filter.Cases ? " AND 0" : "") + " GROUP BY c.site_id");
  bindFilter(Counted);
  while (Counted.step()) {
    SiteStats &St = Sites[Counted.integer(0)];
    St.Calls = Counted.integer(1);
    // Counted calls are almost always leaves: their time is attributed as self time (unless
    // the CPU samples gave it, for these calls too).
    St.TotalNs = addSaturating(St.TotalNs, Counted.integer(2));
    if (!St.OwnFromCpuSamples)
      St.SelfNs = addSaturating(St.SelfNs, Counted.integer(2));
    St.RawTotalNs = addSaturating(St.RawTotalNs, Counted.integer(2));
    St.RawSelfNs = addSaturating(St.RawSelfNs, Counted.integer(2));
  }
  // Calls counted under SCOPEPROF_MIN_DURATION are known to be shorter than it: they are the
  // lowest ranks of the distribution, and a percentile that falls among them is "< threshold".
  auto Limit =
      Db.prepare("SELECT coalesce(max(min_duration_ns), 0) FROM processes WHERE run_id=?1");
  Limit.bind(1, Run).step();
  int64_t Threshold = Limit.integer(0);
  auto AtRank = Db.prepare("SELECT " + Duration + " FROM calls WHERE " + Where +
                           " AND site_id=?4 ORDER BY " + Duration + " LIMIT 1 OFFSET ?5");
  auto percentile = [&](int64_t Site, const SiteStats &St, double P, bool &Under) -> int64_t {
    // Nearest rank: the smallest duration with at least P of the calls at or below it. Over
    // the calls recorded or counted: a throttled site's samples rank as one call each.
    int64_t Population = St.Calls - St.Estimated;
    auto Rank =
        std::max<int64_t>(static_cast<int64_t>(std::ceil(P * static_cast<double>(Population))), 1);
    int64_t Counted = Population - St.Recorded;
    Under = Rank <= Counted;
    if (Under)
      return Threshold;
    bindFilter(AtRank);
    AtRank.bind(4, Site).bind(5, Rank - Counted - 1);
    int64_t V = AtRank.step() ? AtRank.integer(0) : 0;
    AtRank.reset();
    return V;
  };

  std::vector<SiteStats> Out;
  for (auto &[Site, St] : Sites) {
    St.SiteId = Site;
    St.Calls = addSaturating(St.Calls, addSaturating(St.Recorded, St.Estimated));
    // A throttled site without a call here: shown where the samples found it, or for a whole
    // process (a fork child's inherited cut), not for a thread or a case that never called it.
    if (!St.Calls && !(St.Throttled && (St.SelfNs > 0 || (!Filter.Tid && !Filter.Cases))))
      continue;
    // A function cut off uncounted: its calls stop at the cut, its total holds what the samples
    // found after it; the mean is its recorded calls' (none: 0).
    St.MeanNs = St.CutOff || !St.Calls
                    ? (St.Recorded ? Sums[Site].TotalNs / static_cast<double>(St.Recorded) : 0)
                    : static_cast<double>(St.TotalNs) / static_cast<double>(St.Calls);
    if (St.Recorded > 1) {
      double N = static_cast<double>(St.Recorded), Mean = Sums[Site].TotalNs / N;
      St.StddevNs = std::sqrt(std::max(0.0, (Sums[Site].SumSquares - N * Mean * Mean) / (N - 1)));
    }
    if (St.Recorded || Threshold) {
      St.P50Ns = percentile(Site, St, 0.50, St.P50UnderThreshold);
      St.P95Ns = percentile(Site, St, 0.95, St.P95UnderThreshold);
      St.HasPercentiles = true;
    }
    Out.push_back(St);
  }
  return Out;
}

void storeSiteStats(Database &Db, int64_t Run) {
  Db.prepare("DELETE FROM site_stats WHERE run_id=?1").bind(1, Run).run();
  auto Insert =
      Db.prepare("INSERT INTO site_stats VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,"
                 "?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27)");
  for (const auto &St : computeSiteStats(Db, Run)) {
    Insert.bind(1, Run)
        .bind(2, St.SiteId)
        .bind(3, St.Calls)
        .bind(4, St.Recorded)
        .bind(5, St.Broken)
        .bind(6, St.TotalNs)
        .bind(7, St.SelfNs)
        .bind(8, St.MeanNs)
        .bind(14, St.RawTotalNs)
        .bind(15, St.RawSelfNs);
    if (St.ThrottledAfter)
      Insert.bind(16, St.ThrottledAfter);
    Insert.bind(17, St.CpuCalls);
    if (St.CpuCalls)
      Insert.bind(18, St.CpuNs).bind(20, St.WaitNs);
    if (St.SelfCpuCalls)
      Insert.bind(19, St.SelfCpuNs).bind(21, St.SelfWaitNs);
    if (St.Estimated)
      Insert.bind(22, St.Estimated);
    if (St.AllocCalls)
      Insert.bind(23, St.Allocs).bind(24, St.AllocBytes).bind(25, St.SelfAllocBytes);
    if (St.PeakCalls)
      Insert.bind(26, St.PeakBytes).bind(27, St.MaxPeakBytes);
    if (St.Recorded)
      Insert.bind(10, St.MinNs).bind(13, St.MaxNs);
    if (St.HasPercentiles)
      Insert.bind(11, St.P50Ns).bind(12, St.P95Ns);
    if (St.Recorded > 1)
      Insert.bind(9, St.StddevNs);
    Insert.run();
  }
  Db.prepare("UPDATE runs SET start_ns=(SELECT min(start_ns) FROM processes WHERE run_id=?1), "
             "end_ns=(SELECT max(end_ns) FROM processes WHERE run_id=?1) WHERE id=?1")
      .bind(1, Run)
      .run();
}

std::map<int64_t, SiteName> loadSiteNames(Database &Db) {
  std::map<int64_t, SiteName> Sites;
  auto S = Db.prepare("SELECT id, signature, file, line FROM sites");
  while (S.step())
    Sites[S.integer(0)] = {S.text(1), S.text(2), S.integer(3)};
  return Sites;
}

int64_t findRun(Database &Db, const std::string &Spec) {
  auto Find = Spec.empty() ? Db.prepare("SELECT id FROM runs ORDER BY id DESC LIMIT 1")
                           : Db.prepare("SELECT id FROM runs WHERE name=?1 OR CAST(id AS TEXT)=?1");
  if (!Spec.empty())
    Find.bind(1, Spec);
  if (!Find.step())
    throw InputError(Spec.empty() ? "database '" + Db.path() + "' holds no runs"
                                  : "no run '" + Spec + "' in database '" + Db.path() + "'");
  return Find.integer(0);
}

} // namespace scopeprof::db
