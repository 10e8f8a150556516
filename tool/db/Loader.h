// `scopeprof load`: merges the log files of runs into a scopeprof database, incrementally.
#pragma once

#include "Sqlite.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace scopeprof::db {

struct LoadProblem {
  std::string Path; ///< the file or directory
  uint64_t Offset = 0;
  std::string Message;
};

struct LoadProgress {
  size_t FilesDone = 0, FilesTotal = 0;
  uint64_t Calls = 0;
};

struct LoadOptions {
  bool Strict = false; ///< a run with any problem is not loaded at all
  std::function<void(const LoadProgress &)> OnProgress;
};

struct LoadSummary {
  size_t Runs = 0, Files = 0, UnchangedFiles = 0, RejectedRuns = 0;
  uint64_t Calls = 0;
  double InsertSeconds = 0, IndexSeconds = 0, StatsSeconds = 0; ///< where the time went
  std::vector<LoadProblem> Problems;
  std::vector<LoadProblem> Notes; ///< worth saying, not a failure (a run stored under a new name)
};

/// Loads every log file found under \p Inputs (run directories, directories holding runs, or
/// single files). Each run is one transaction; batches already in the database are not added
/// again; per-site statistics of the touched runs are recomputed.
LoadSummary loadRuns(Database &Db, const std::vector<std::string> &Inputs,
                     const LoadOptions &Options);

} // namespace scopeprof::db
