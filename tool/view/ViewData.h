// What the viewer asks of a database: runs, lanes, level-of-detail call boxes per time window,
// call details, flame graphs and function tables, each as a JSON document. Shared by the
// server (`scopeprof view DB`) and the single-file report (`view DB -o FILE.html`).
#pragma once

#include "Sqlite.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace scopeprof::view {

/// The finest bucket of the level-of-detail tables; level L merges calls per 16 us * 4^(L-1).
constexpr int64_t FinestBucketNs = 16'000;
constexpr int64_t bucketNs(int Level) { return FinestBucketNs << (2 * (Level - 1)); }

/// The boxes of some threads' lanes in one time window.
struct SliceQuery {
  int64_t Run = 0;
  std::vector<int64_t> Threads;
  int64_t From = 0, To = 0; ///< ns after the run's start
  int64_t Pixels = 1000;    ///< width of the window on screen
  int MaxDepth = 128;
  /// -1: choose (individual calls when few enough, else the level a pixel wide); 0: individual
  /// calls; N: level N.
  int Level = -1;
};

class ViewData {
public:
  /// Reads \p Db, which must stay open and unchanged; builds the level-of-detail tables of
  /// a run in TEMP tables (on disk, deleted with the connection) the first time it is asked.
  explicit ViewData(db::Database &Db);

  /// Builds the level-of-detail tables of \p Run now (else on its first request).
  void prepare(int64_t Run);
  /// How many calls \p Run holds (prepared).
  int64_t callCount(int64_t Run);
  /// The coarsest level any thread of \p Run has.
  int levels(int64_t Run);

  std::string runsJson();
  /// The run: its processes in process-tree order with their threads, the sites its calls use.
  std::string runJson(int64_t Run);
  std::string slicesJson(const SliceQuery &Q);
  /// One call: times, exception, and its path up to the outermost call.
  std::string callJson(int64_t CallId);
  /// The merged call tree of a thread (0: all threads of the run), nodes smaller than
  /// \p MinFraction of the whole left out.
  std::string flameJson(int64_t Run, int64_t Thread, double MinFraction = 1e-4);
  /// Per function of a thread (0: all threads): calls, total, self, max, broken.
  std::string functionsJson(int64_t Run, int64_t Thread);
  /// The longest call of any of \p Sites in \p Run (search: "jump to"); null if none.
  std::string longestJson(int64_t Run, const std::vector<int64_t> &Sites);

  db::Database &database() { return Db; }
  int64_t runStart(int64_t Run);

private:
  void build(int64_t Run);
  void buildThread(int64_t Run, int64_t Thread);

  db::Database &Db;
  std::set<int64_t> Prepared;
};

} // namespace scopeprof::view
