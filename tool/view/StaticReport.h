// `scopeprof view DB -o FILE.html`: the viewer and one run's data in one self-contained file.
#pragma once

#include "ViewData.h"

#include <cstdint>
#include <string>

namespace scopeprof::view {

/// Writes the page for \p Run to \p Path (all or nothing), its data summarized so the whole
/// file stays within \p MaxBytes. Throws db::DbError when even the coarsest summary does not
/// fit, or the file cannot be written. Returns what it summarized, for the console.
std::string writeReport(ViewData &Data, int64_t Run, const std::string &Path, uint64_t MaxBytes);

} // namespace scopeprof::view
