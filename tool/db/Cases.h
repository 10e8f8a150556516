// Profile cases in a run (docs/cases.md): which ones a glob names, for report, diff and export.
#pragma once

#include "Sqlite.h"

#include <cstdint>
#include <string>
#include <vector>

namespace scopeprof::db {

struct CaseSelection {
  std::vector<int64_t> Ids;        ///< cases.id of every measured repetition
  std::vector<std::string> Names;  ///< the distinct names, in the order they first ran
  int64_t Repetitions = 0;         ///< how many rows of `cases` (Ids.size())
};

/// The measured (not warm-up) repetitions of the cases of \p Run whose name matches \p Glob
/// (the rules language's syntax with `::` as separator: `Demo::*`, `**`). Throws InputError
/// when the run has no cases, or none matches (naming the run's cases).
CaseSelection selectCases(Database &Db, int64_t Run, const std::string &Glob);

} // namespace scopeprof::db
