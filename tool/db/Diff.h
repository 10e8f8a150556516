// `scopeprof diff`: what got slower or faster between two sets of runs, matched by site key,
// with a noise test over per-call times and, given several runs a side, run-to-run spread;
// and what allocates differently, exactly.
#pragma once

#include "Sqlite.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace scopeprof::db {

/// One side of a comparison: runs of one database.
struct RunSet {
  Database *Db = nullptr;
  std::vector<int64_t> Runs;
  /// diff --case: per run, the cases whose calls are compared (selectCases); empty: all calls.
  std::map<int64_t, std::vector<int64_t>> Cases;
};

struct DiffOptions {
  double ThresholdPct = 10; ///< a change smaller than this is no regression
  double MinTimeNs = 1e6;   ///< nor one smaller than this, per run
  double Alpha = 0.01;      ///< significance level of the per-call rank test
  bool Normalize = true;    ///< divide each run's times by its machine factor (see DiffResult)
};

enum Verdict { Unchanged, Regression, Improvement };

/// One time of a function compared, wall or CPU: per run, averaged over each side's runs.
struct TimeDiff {
  double BaseTotal = 0, HeadTotal = 0; ///< ns per run (each run divided by its machine factor)
  double BaseSelf = 0, HeadSelf = 0;
  double ChangePct = 0, ChangeNs = 0; ///< of total time per run
  double SelfChangeNs = 0;            ///< where the time was added: ranks the changes
  std::optional<double> PValue;       ///< rank test of per-call times (recorded calls)
  bool RunsSeparate = true;           ///< with several runs a side: ranges do not overlap
  /// Standard error of the change's estimate where calls were sampled (0: none): the time of
  /// a throttled function's unrecorded calls is its drawn calls' times weighted 64 each.
  double SamplingErrorNs = 0;
  bool BeyondNoise = false;
  Verdict Result = Unchanged;
};

/// Allocations per call compared exactly: allocations are no noisier than the program's own
/// decisions, so any difference is a change. Inclusive figures (the call and everything under
/// it) decide; the calls' own bytes say where the change was made.
struct AllocDiff {
  double BaseCalls = 0, HeadCalls = 0;   ///< the calls the figures are over, in all runs
  double BaseAllocs = 0, HeadAllocs = 0; ///< per call
  double BaseBytes = 0, HeadBytes = 0;   ///< per call
  double BaseSelfBytes = 0, HeadSelfBytes = 0;
  /// Every call on both sides was recorded with its counts. Otherwise (some calls only
  /// counted under SCOPEPROF_MIN_DURATION, sampled by the auto-throttle, or on a thread that
  /// did not count) the figures are of a subset that timing or chance chose: not judged.
  bool Exact = true;
  /// The runs of one side disagree among themselves (the program allocates differently from
  /// run to run): a change must then separate every head run from every base run.
  bool Varies = false;
  bool Changed = false; ///< the per-call figures differ (and, with several runs, separate)
  Verdict Result = Unchanged;
};

struct SiteDiff {
  std::string Key, Signature, Location;
  double BaseCalls = 0, HeadCalls = 0; ///< per run (mean over runs)
  TimeDiff Wall;
  std::optional<TimeDiff> Cpu;     ///< when both sides have CPU times of its calls
  std::optional<AllocDiff> Allocs; ///< when both sides counted its allocations
};

/// How much slower the head machine ran the same code: the geometric mean of head's runs'
/// machine factors, base's averaging 1 (Diff.cpp, machineSpeed). 1 when unknown.
struct MachineFactor {
  double Value = 1;
  size_t Sites = 0; ///< how many functions voted on it
};

struct DiffResult {
  /// In both: wall time regressions, improvements, the rest; each by change of self time,
  /// since the function that got slower itself comes before its callers, whose totals grew
  /// with it.
  std::vector<SiteDiff> Sites;
  std::vector<SiteDiff> Added, Removed;           ///< only in head / only in base
  size_t Regressions = 0, Improvements = 0;       ///< of wall time
  size_t CpuRegressions = 0, CpuImprovements = 0; ///< of CPU time
  size_t AllocRegressions = 0, AllocImprovements = 0;
  MachineFactor Wall, Cpu;
  /// Whether every run of a side measured CPU time (a thread tracked) or counted
  /// allocations (SCOPEPROF_COUNTERS): a measure is compared only when both sides have it.
  bool BaseCpu = false, HeadCpu = false, BaseMemory = false, HeadMemory = false;

  size_t allRegressions() const { return Regressions + CpuRegressions + AllocRegressions; }
};

DiffResult diffRuns(const RunSet &Base, const RunSet &Head, const DiffOptions &Options);

/// Two-sided p-value of the Mann-Whitney U test (normal approximation, tie-corrected).
double mannWhitneyP(std::vector<double> A, std::vector<double> B);

} // namespace scopeprof::db
