// One exception's traceback, bounded: however deep the unwinding, its text stays small.
#pragma once

#include "Sqlite.h"

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace scopeprof::db {

/// The frames of one exception, innermost first, as the broken calls arrive. A 100 000-deep
/// recursion must not become 100 000 lines: the innermost and the outermost frames are kept
/// (where it was thrown, where it was caught) with the count of those left out between.
class Traceback {
public:
  static constexpr size_t KeptAtEachEnd = 50;
  static constexpr size_t MaxFrameBytes = 512;

  int64_t Run = 0, Thread = 0;
  uint64_t Pid = 0, Tid = 0;
  std::string Type, Message;
  uint64_t Frames = 0; ///< every broken call, kept or not

  void addFrame(const std::string &Frame);
  std::string text() const;
  /// Inserts or updates (a run still being written adds frames) the row \p Id of
  /// `exceptions` through \p Upsert (parameters: id, run, thread, pid, tid, type, message,
  /// traceback, frames).
  void store(Statement &Upsert, int64_t Id) const;

private:
  std::vector<std::string> Inner;
  std::deque<std::string> Outer;
};

} // namespace scopeprof::db
