// `scopeprof diff`: what got slower or faster between two sets of runs, matched by site key,
// with a noise test over per-call durations and, given several runs a side, run-to-run spread.
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
  bool Normalize = true;    ///< divide head times by the machine factor (see DiffResult)
};

struct SiteDiff {
  std::string Key, Signature, Location;
  double BaseCalls = 0, HeadCalls = 0; ///< per run (mean over runs)
  double BaseTotal = 0, HeadTotal = 0; ///< ns per run (mean over runs)
  double BaseSelf = 0, HeadSelf = 0;
  double ChangePct = 0, ChangeNs = 0; ///< of total time per run
  double SelfChangeNs = 0;            ///< where the time was added: ranks the changes
  std::optional<double> PValue;       ///< rank test of per-call durations (recorded calls)
  bool RunsSeparate = true;           ///< with several runs a side: ranges do not overlap
  bool BeyondNoise = false;
  enum Verdict { Unchanged, Regression, Improvement } Result = Unchanged;
};

struct DiffResult {
  /// In both: regressions, improvements, the rest; each by change of self time, since the
  /// function that got slower itself comes before its callers, whose totals grew with it.
  std::vector<SiteDiff> Sites;
  std::vector<SiteDiff> Added, Removed; ///< only in head / only in base
  size_t Regressions = 0, Improvements = 0;
  /// How much slower the head machine ran the same code: the median, over functions with
  /// enough recorded calls of at least 100 ns, of head/base mean call duration. 1 when unknown.
  double MachineFactor = 1;
  size_t FactorSites = 0; ///< how many functions the factor is the median of
};

DiffResult diffRuns(const RunSet &Base, const RunSet &Head, const DiffOptions &Options);

/// Two-sided p-value of the Mann-Whitney U test (normal approximation, tie-corrected).
double mannWhitneyP(std::vector<double> A, std::vector<double> B);

} // namespace scopeprof::db
