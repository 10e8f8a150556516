// The call stream turned into timelines (begin/end events) and into stacks (for aggregates).
#include "Export.h"

#include <algorithm>

namespace scopeprof::cli::exporter {

void walkSlices(db::Database &Db, const Options &O, const std::vector<Lane> &Lanes, SliceSink &S) {
  CallStream Stream(Db, O, Lanes);
  Call C;
  bool Have = Stream.next(C);
  std::vector<Call> Open;
  for (const Lane &L : Lanes) {
    S.beginLane(L);
    int64_t Last = INT64_MIN;
    auto close = [&] {
      Last = std::max(Last, O.clip(Open.back().End));
      S.end(Open.back(), Last);
      Open.pop_back();
    };
    for (; Have && C.ThreadId == L.ThreadId; Have = Stream.next(C)) {
      // Depth, not time, decides nesting: it is what the loader built the tree from.
      while (!Open.empty() && Open.back().Depth >= C.Depth)
        close();
      Last = std::max(Last, O.clip(C.Start));
      S.begin(C, Last);
      Open.push_back(C);
    }
    while (!Open.empty())
      close();
    S.endLane(L);
  }
}

void walkStacks(db::Database &Db, const Options &O, const std::vector<Lane> &Lanes, StackSink &S) {
  // Short calls are needed here: their time goes to their caller.
  Options All = O;
  All.MinDuration = 0;
  CallStream Stream(Db, All, Lanes);
  Call C;
  bool Have = Stream.next(C);
  struct Open {
    Call C;
    int64_t ChildOutside = 0; ///< of the window's outside, the part in its children
    int64_t Extra = 0;        ///< time of its children too short to be shown
  };
  std::vector<Open> Stack;
  std::vector<int64_t> Sites;
  auto outside = [&](const Call &X) {
    return (X.End - X.Start) - (O.clip(X.End) - O.clip(X.Start));
  };
  for (const Lane &L : Lanes) {
    S.beginLane(L);
    auto finish = [&] {
      const Open &E = Stack.back();
      int64_t Outside = outside(E.C);
      int64_t Total = std::max<int64_t>(0, E.C.Duration - Outside);
      int64_t Self = std::max<int64_t>(0, E.C.Self - (Outside - E.ChildOutside)) + E.Extra;
      S.call(L, Sites, Total, Self);
      Stack.pop_back();
      Sites.pop_back();
      if (!Stack.empty())
        Stack.back().ChildOutside += Outside;
    };
    int64_t SkipBelow = INT64_MAX; // the depth of a short call: what is under it is skipped
    for (; Have && C.ThreadId == L.ThreadId; Have = Stream.next(C)) {
      if (C.Depth > SkipBelow)
        continue;
      SkipBelow = INT64_MAX;
      while (!Stack.empty() && Stack.back().C.Depth >= C.Depth)
        finish();
      if (C.Duration < static_cast<int64_t>(O.MinDuration)) {
        if (!Stack.empty()) {
          Stack.back().Extra += std::max<int64_t>(0, C.Duration - outside(C));
          Stack.back().ChildOutside += outside(C);
        } else {
          S.threadOwn(L, std::max<int64_t>(0, C.Duration - outside(C)));
        }
        SkipBelow = C.Depth;
        continue;
      }
      Stack.push_back({C});
      Sites.push_back(C.Site);
    }
    while (!Stack.empty())
      finish();
  }
}

} // namespace scopeprof::cli::exporter
