// Per-site statistics of a run (or of one process or thread in it), from the calls table.
#pragma once

#include "Sqlite.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace scopeprof::db {

struct CallFilter {
  std::optional<int64_t> Pid, Tid;
  /// Times as measured, the cost of the scopes included, instead of compensated ones.
  bool Raw = false;
  /// Only calls of these cases (cases.id; selectCases). Calls counted rather than recorded
  /// belong to no case: with cases, they are left out.
  std::optional<std::vector<int64_t>> Cases;

  /// " AND <Column> IN (...)" for the case filter, else "" (ids are integers from the database).
  std::string casesClause(const std::string &Column = "case_id") const;
};

struct SiteStats {
  int64_t SiteId = 0;
  int64_t Calls = 0;    ///< recorded + counted + estimated
  int64_t Recorded = 0; ///< written one by one; stddev, min and max describe these
  /// Calls of a throttled site that its samples stand for, beyond the samples themselves.
  int64_t Estimated = 0;
  int64_t Broken = 0;
  int64_t TotalNs = 0, SelfNs = 0;
  int64_t RawTotalNs = 0, RawSelfNs = 0; ///< as measured, whatever the filter's choice
  /// CPU time, over the recorded calls that have one (CpuCalls of them; counted calls never
  /// do): totals of cpu_ns, self_cpu_ns, and of what the wall times add to them (waiting).
  int64_t CpuCalls = 0, SelfCpuCalls = 0; ///< self CPU time needs the children's too
  int64_t CpuNs = 0, SelfCpuNs = 0, WaitNs = 0, SelfWaitNs = 0;
  int64_t ThrottledAfter = 0; ///< calls seen when the auto-throttle cut it (summed over processes)
  /// The auto-throttle cut it: after ThrottledAfter calls, or, in a fork child, before any (the
  /// parent's cut, inherited).
  bool Throttled = false;
  /// Cut with no call recorded after (in some process): its calls are a lower bound.
  bool CutOff = false;
  /// A throttled site whose self time (wall and CPU) is what the CPU samples found it innermost
  /// for, not what its recorded calls measured.
  bool OwnFromCpuSamples = false;
  /// Allocations, over the recorded calls that counted them (AllocCalls; a sample counts for
  /// the calls it stands for): allocs and alloc_bytes inclusive, self_alloc_bytes the calls'
  /// own.
  int64_t AllocCalls = 0, Allocs = 0, AllocBytes = 0, SelfAllocBytes = 0;
  /// The peak of live bytes (calls.peak_bytes): over the calls that have it (PeakCalls), the
  /// total (a sample counting for the calls it stands for) and the largest.
  int64_t PeakCalls = 0, PeakBytes = 0, MaxPeakBytes = 0;
  double MeanNs = 0, StddevNs = 0;
  int64_t MinNs = 0, P50Ns = 0, P95Ns = 0, MaxNs = 0;
  /// Percentiles over every call: counted calls rank below the duration threshold, so a
  /// percentile among them is the threshold itself, meaning "shorter than it".
  bool HasPercentiles = false, P50UnderThreshold = false, P95UnderThreshold = false;
};

/// What names a site in reports and exports.
struct SiteName {
  std::string Signature, File;
  int64_t Line = 0;
  std::string location() const { return File + ":" + std::to_string(Line); }
};

/// Every site of the database, by sites.id (a few thousand at most: kept in memory).
std::map<int64_t, SiteName> loadSiteNames(Database &Db);

/// Streams the calls through the calls_by_site index: memory is independent of their number.
std::vector<SiteStats> computeSiteStats(Database &Db, int64_t Run, const CallFilter &Filter = {});

/// Replaces the run's rows of site_stats (and its start and end) by freshly computed ones.
void storeSiteStats(Database &Db, int64_t Run);

/// The run named \p Spec (its name, or its id in the database); the latest run when \p Spec
/// is empty. Throws DbError when there is no such run.
int64_t findRun(Database &Db, const std::string &Spec);

} // namespace scopeprof::db
