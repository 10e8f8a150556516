// The viewer's queries. A run's calls are read once, in id order, into small TEMP tables:
// per thread, level and depth the calls merged per time bucket (long calls kept whole), id
// marks that find the calls of a time window in the calls table itself, and the merged call
// tree. Every later request reads only those tables and short id ranges: its cost depends on
// what the window shows, not on the size of the run.
#include "ViewData.h"

#include "Output.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <unordered_map>

namespace scopeprof::view {
namespace {

/// Levels 1..MaxLevel: the coarsest merges calls per 16 us * 4^13, about 18 minutes.
constexpr int MaxLevel = 14;
/// A mark every so many ids bounds the id range a window's calls lie in.
constexpr int64_t MarkEvery = 128;
/// Ticks become ns per batch: a thread's times may step back by about a microsecond.
constexpr int64_t ClockSlackNs = 10'000;
/// Ids looked up for a window beyond which merged boxes are drawn instead of calls.
constexpr int64_t RawLimit = 20'000;
/// Boxes per thread and window at most, whatever is asked.
constexpr size_t RowCap = 200'000;
/// Parents' tree nodes remembered while reading calls; forgotten (and read again) past it.
constexpr size_t MemoCap = 100'000;

constexpr const char *TempSchema = R"sql(
CREATE TEMP TABLE IF NOT EXISTS view_threads(thread_id INTEGER PRIMARY KEY, run_id INTEGER,
  calls INTEGER, first_ns INTEGER, last_ns INTEGER, max_depth INTEGER);
CREATE TEMP TABLE IF NOT EXISTS view_lod(thread_id INTEGER, level INTEGER, depth INTEGER,
  start_ns INTEGER, end_ns INTEGER, count INTEGER, call_id INTEGER, site_id INTEGER,
  self_ns INTEGER, broken INTEGER, exception_id INTEGER);
CREATE INDEX IF NOT EXISTS temp.view_lod_at ON view_lod(thread_id, level, depth, start_ns);
CREATE TEMP TABLE IF NOT EXISTS view_marks(file_id INTEGER, call_id INTEGER, lo_ns INTEGER,
  hi_ns INTEGER);
CREATE INDEX IF NOT EXISTS temp.view_marks_lo ON view_marks(file_id, lo_ns);
CREATE INDEX IF NOT EXISTS temp.view_marks_hi ON view_marks(file_id, hi_ns);
CREATE TEMP TABLE IF NOT EXISTS view_nodes(id INTEGER PRIMARY KEY, thread_id INTEGER,
  parent INTEGER, site_id INTEGER, depth INTEGER, calls INTEGER, total_ns INTEGER,
  self_ns INTEGER);
CREATE INDEX IF NOT EXISTS temp.view_nodes_of ON view_nodes(thread_id);
CREATE TEMP TABLE IF NOT EXISTS view_functions(thread_id INTEGER, site_id INTEGER,
  calls INTEGER, total_ns INTEGER, self_ns INTEGER, max_ns INTEGER, broken INTEGER);
CREATE INDEX IF NOT EXISTS temp.view_functions_of ON view_functions(thread_id);
)sql";

/// A call as the level tables keep it.
struct Box {
  int64_t Start = 0, End = 0, Count = 0, CallId = 0, Site = 0, Self = 0, ExceptionId = 0;
  bool Broken = false;
};

/// The calls of one bucket at one depth, merging: their span, how many, the longest.
struct Bucket {
  int64_t Index = -1;
  Box Merged;
  int64_t Longest = -1;
};

struct Node {
  int64_t Parent, Site, Depth;
  bool Recursive; ///< its function is also above it: its time is counted there already
  int64_t Calls = 0, Total = 0, Self = 0;
};

struct PairHash {
  size_t operator()(const std::pair<int64_t, int64_t> &P) const {
    return std::hash<int64_t>()(P.first * 1'000'003 ^ P.second);
  }
};

struct Function {
  int64_t Calls = 0, Total = 0, Self = 0, Max = 0, Broken = 0;
};

std::string idList(const std::vector<int64_t> &Ids) {
  std::string Out;
  for (int64_t Id : Ids)
    Out += (Out.empty() ? "" : ",") + std::to_string(Id);
  return Out;
}

} // namespace

ViewData::ViewData(db::Database &Db) : Db(Db) {
  // TEMP tables spill to a file that SQLite deletes; the page cache bounds the memory.
  Db.exec("PRAGMA temp_store=FILE; PRAGMA cache_size=-32000");
  Db.exec(TempSchema);
}

int64_t ViewData::runStart(int64_t Run) {
  prepare(Run);
  auto S = Db.prepare("SELECT coalesce((SELECT start_ns FROM runs WHERE id=?1), "
                      "(SELECT min(first_ns) FROM view_threads WHERE run_id=?1), 0)");
  S.bind(1, Run).step();
  return S.integer(0);
}

void ViewData::prepare(int64_t Run) {
  if (Prepared.count(Run))
    return;
  Db.exec("BEGIN");
  try {
    build(Run);
    Db.exec("COMMIT");
  } catch (...) {
    Db.exec("ROLLBACK");
    throw;
  }
  Prepared.insert(Run);
}

int64_t ViewData::callCount(int64_t Run) {
  prepare(Run);
  auto S = Db.prepare("SELECT total(calls) FROM view_threads WHERE run_id=?1");
  S.bind(1, Run).step();
  return static_cast<int64_t>(S.real(0));
}

int ViewData::levels(int64_t Run) {
  prepare(Run);
  auto S = Db.prepare("SELECT max(last_ns) - min(first_ns) FROM view_threads WHERE run_id=?1");
  S.bind(1, Run).step();
  int L = 1;
  while (L < MaxLevel && bucketNs(L) < S.integer(0))
    ++L;
  return L;
}

void ViewData::build(int64_t Run) {
  std::vector<int64_t> Threads;
  auto S = Db.prepare("SELECT id FROM threads WHERE run_id=?1 ORDER BY id");
  S.bind(1, Run);
  while (S.step())
    Threads.push_back(S.integer(0));
  for (int64_t T : Threads)
    buildThread(Run, T);
}

void ViewData::buildThread(int64_t Run, int64_t Thread) {
  auto Files = Db.prepare("SELECT id FROM files WHERE thread_id=?1 ORDER BY id");
  auto Calls = Db.prepare("SELECT id, depth, start_ns, end_ns, site_id, parent_id, duration_ns, "
                          "self_ns, broken, coalesce(exception_id, 0) FROM calls "
                          "WHERE id >= ?1 AND id < ?2 ORDER BY id");
  auto ParentOf = Db.prepare("SELECT site_id, parent_id FROM calls WHERE id=?1");
  auto InsertLod = Db.prepare("INSERT INTO view_lod VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
  auto InsertMark = Db.prepare("INSERT INTO view_marks VALUES(?1,?2,?3,?4)");

  // Levels x depths of buckets being filled; calls at one depth never overlap and come in
  // time order, so a bucket is done when a call of its depth starts in a later one.
  std::vector<std::vector<Bucket>> Open(MaxLevel + 1);
  auto emit = [&](int Level, int64_t Depth, const Box &B) {
    InsertLod.bind(1, Thread).bind(2, Level).bind(3, Depth).bind(4, B.Start).bind(5, B.End);
    InsertLod.bind(6, B.Count).bind(7, B.CallId).bind(8, B.Site).bind(9, B.Self);
    InsertLod.bind(10, static_cast<int64_t>(B.Broken)).bind(11, B.ExceptionId).run();
  };

  std::vector<Node> Nodes;
  std::unordered_map<std::pair<int64_t, int64_t>, int64_t, PairHash> NodeIndex; // (parent, site)
  std::unordered_map<int64_t, int64_t> Memo;                                    // call id -> node
  std::unordered_map<int64_t, Function> Functions;
  auto child = [&](int64_t Parent, int64_t Site) {
    auto [It, New] = NodeIndex.try_emplace({Parent, Site}, static_cast<int64_t>(Nodes.size()));
    if (!New)
      return It->second;
    bool Recursive = false;
    for (int64_t Up = Parent; Up >= 0 && !Recursive; Up = Nodes[static_cast<size_t>(Up)].Parent)
      Recursive = Nodes[static_cast<size_t>(Up)].Site == Site;
    int64_t Depth = Parent < 0 ? 0 : Nodes[static_cast<size_t>(Parent)].Depth + 1;
    Nodes.push_back({Parent, Site, Depth, Recursive});
    return It->second;
  };
  // The tree node of call \p Id: its parents are read by id when not remembered (a parent's
  // id follows its first child's).
  std::vector<std::pair<int64_t, int64_t>> Chain; // (call, site), innermost first
  auto nodeOf = [&](int64_t Id) -> int64_t {
    Chain.clear();
    int64_t Node = -1;
    for (int64_t Up = Id; Up;) {
      if (auto It = Memo.find(Up); It != Memo.end()) {
        Node = It->second;
        break;
      }
      ParentOf.bind(1, Up);
      if (!ParentOf.step()) { // a forked child's outermost calls: their parent is elsewhere
        ParentOf.reset();
        break;
      }
      Chain.push_back({Up, ParentOf.integer(0)});
      Up = ParentOf.isNull(1) ? 0 : ParentOf.integer(1);
      ParentOf.reset();
    }
    if (Memo.size() + Chain.size() > MemoCap)
      Memo.clear();
    for (auto It = Chain.rbegin(); It != Chain.rend(); ++It) {
      Node = child(Node, It->second);
      Memo[It->first] = Node;
    }
    return Node;
  };

  int64_t Count = 0, First = INT64_MAX, Last = INT64_MIN, MaxDepth = 0;
  Files.bind(1, Thread);
  while (Files.step()) {
    int64_t File = Files.integer(0);
    struct Mark {
      int64_t Id, Lo, BlockMinEnd;
    };
    std::vector<Mark> Marks;
    int64_t MaxStart = INT64_MIN, Seen = 0;
    Calls.bind(1, File << 32).bind(2, (File + 1) << 32);
    while (Calls.step()) {
      int64_t Id = Calls.integer(0), Depth = Calls.integer(1), Start = Calls.integer(2),
              End = Calls.integer(3), Site = Calls.integer(4);
      int64_t Duration = Calls.integer(6), Self = Calls.integer(7);
      bool Broken = Calls.integer(8) != 0;
      Box Call{Start, End, 1, Id, Site, Self, Calls.integer(9), Broken};
      ++Count;
      First = std::min(First, Start);
      Last = std::max(Last, End);
      MaxDepth = std::max(MaxDepth, Depth);

      MaxStart = std::max(MaxStart, Start);
      if (Seen++ % MarkEvery == 0)
        Marks.push_back({Id, MaxStart, End});
      else
        Marks.back().BlockMinEnd = std::min(Marks.back().BlockMinEnd, End);

      for (int L = 1; L <= MaxLevel; ++L) {
        if (End - Start >= bucketNs(L)) { // wide enough to draw: kept whole
          emit(L, Depth, Call);
          continue;
        }
        auto &AtLevel = Open[static_cast<size_t>(L)];
        if (AtLevel.size() <= static_cast<size_t>(Depth))
          AtLevel.resize(static_cast<size_t>(Depth) + 1);
        Bucket &B = AtLevel[static_cast<size_t>(Depth)];
        int64_t Index = Start / bucketNs(L);
        if (B.Index != Index) {
          if (B.Index >= 0)
            emit(L, Depth, B.Merged);
          B = Bucket{Index, Call, End - Start};
          continue;
        }
        B.Merged.Start = std::min(B.Merged.Start, Start);
        B.Merged.End = std::max(B.Merged.End, End);
        ++B.Merged.Count;
        B.Merged.Broken |= Broken;
        if (Broken && !B.Merged.ExceptionId) // the box says what broke one of its calls
          B.Merged.ExceptionId = Call.ExceptionId;
        if (End - Start > B.Longest) { // the longest names the box
          B.Longest = End - Start;
          B.Merged.CallId = Id;
          B.Merged.Site = Site;
          B.Merged.Self = Self;
          if (Broken)
            B.Merged.ExceptionId = Call.ExceptionId;
        }
      }

      // A call with children was looked up (and remembered) when its first child was read:
      // its id comes right after that child's. Any other call is a leaf, never looked up.
      int64_t Parent = Calls.isNull(5) ? 0 : Calls.integer(5);
      auto Known = Memo.find(Id);
      int64_t N = Known != Memo.end() ? Known->second : child(Parent ? nodeOf(Parent) : -1, Site);
      Node &TreeNode = Nodes[static_cast<size_t>(N)];
      ++TreeNode.Calls;
      TreeNode.Total += Duration;
      TreeNode.Self += Self;
      Function &F = Functions[Site];
      ++F.Calls;
      F.Total += TreeNode.Recursive ? 0 : Duration;
      F.Self += Self;
      F.Max = std::max(F.Max, Duration);
      F.Broken += Broken;
    }
    Calls.reset();
    // hi: the earliest end at or after each mark (a suffix minimum), so every id before a mark
    // whose hi is before a window ends before it.
    int64_t Hi = INT64_MAX;
    for (auto It = Marks.rbegin(); It != Marks.rend(); ++It) {
      Hi = std::min(Hi, It->BlockMinEnd);
      InsertMark.bind(1, File).bind(2, It->Id).bind(3, It->Lo).bind(4, Hi).run();
    }
  }
  for (int L = 1; L <= MaxLevel; ++L)
    for (size_t D = 0; D < Open[static_cast<size_t>(L)].size(); ++D)
      if (Open[static_cast<size_t>(L)][D].Index >= 0)
        emit(L, static_cast<int64_t>(D), Open[static_cast<size_t>(L)][D].Merged);

  auto InsertThread = Db.prepare("INSERT OR REPLACE INTO view_threads VALUES(?1,?2,?3,?4,?5,?6)");
  InsertThread.bind(1, Thread).bind(2, Run).bind(3, Count);
  if (Count)
    InsertThread.bind(4, First).bind(5, Last);
  else
    InsertThread.bindNull(4).bindNull(5);
  InsertThread.bind(6, MaxDepth).run();

  // Node ids are offset per thread so one table holds every thread's tree.
  auto Base = Db.prepare("SELECT coalesce(max(id), -1) + 1 FROM view_nodes");
  Base.step();
  int64_t Offset = Base.integer(0);
  auto InsertNode = Db.prepare("INSERT INTO view_nodes VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
  for (size_t I = 0; I < Nodes.size(); ++I) {
    const Node &N = Nodes[I];
    InsertNode.bind(1, Offset + static_cast<int64_t>(I)).bind(2, Thread);
    if (N.Parent >= 0)
      InsertNode.bind(3, Offset + N.Parent);
    else
      InsertNode.bindNull(3);
    InsertNode.bind(4, N.Site).bind(5, N.Depth).bind(6, N.Calls).bind(7, N.Total);
    InsertNode.bind(8, N.Self).run();
  }
  auto InsertFunction = Db.prepare("INSERT INTO view_functions VALUES(?1,?2,?3,?4,?5,?6,?7)");
  for (const auto &[Site, F] : Functions)
    InsertFunction.bind(1, Thread)
        .bind(2, Site)
        .bind(3, F.Calls)
        .bind(4, F.Total)
        .bind(5, F.Self)
        .bind(6, F.Max)
        .bind(7, F.Broken)
        .run();
}

std::string ViewData::runsJson() {
  std::string Out = "[";
  auto S = Db.prepare("SELECT id, name, coalesce(end_ns - start_ns, 0) FROM runs ORDER BY id");
  while (S.step())
    Out += fmt::format("{}{{\"id\":{},\"name\":{},\"duration\":{}}}", Out.size() > 1 ? "," : "",
                       S.integer(0), cli::jsonString(S.text(1)), S.integer(2));
  return Out + "]";
}

std::string ViewData::runJson(int64_t Run) {
  int64_t Base = runStart(Run);
  auto R = Db.prepare("SELECT name, (SELECT max(last_ns) FROM view_threads WHERE run_id=?1) "
                      "FROM runs WHERE id=?1");
  R.bind(1, Run);
  if (!R.step())
    throw db::InputError(fmt::format("no run '{}' in database '{}'", Run, Db.path()));
  std::string Out = fmt::format(
      "{{\"id\":{},\"name\":{},\"duration\":{},\"calls\":{},\"levels\":{},\"finest_bucket\":{}",
      Run, cli::jsonString(R.text(0)), R.isNull(1) ? 0 : R.integer(1) - Base, callCount(Run),
      levels(Run), FinestBucketNs);

  // Processes in tree order: a parent before its children, siblings by start.
  struct Process {
    int64_t Id, Pid, Ppid, Start;
    std::string Json;
  };
  std::vector<Process> Processes;
  auto P = Db.prepare("SELECT id, pid, ppid, coalesce(name, ''), coalesce(command_line, ''), "
                      "coalesce(start_ns, 0) FROM processes WHERE run_id=?1 ORDER BY start_ns, id");
  P.bind(1, Run);
  while (P.step())
    Processes.push_back({P.integer(0), P.integer(1), P.integer(2), P.integer(5),
                         fmt::format("{{\"id\":{},\"pid\":{},\"ppid\":{},\"name\":{},"
                                     "\"command_line\":{},\"threads\":[",
                                     P.integer(0), P.integer(1), P.integer(2),
                                     cli::jsonString(P.text(3)), cli::jsonString(P.text(4)))});
  std::vector<const Process *> Ordered;
  std::set<int64_t> Placed;
  auto place = [&](auto &&Self, const Process &Parent) -> void {
    Ordered.push_back(&Parent);
    Placed.insert(Parent.Id);
    for (const Process &C : Processes)
      if (!Placed.count(C.Id) && C.Ppid == Parent.Pid && C.Id != Parent.Id)
        Self(Self, C);
  };
  for (const Process &Root : Processes) {
    bool HasParent = std::any_of(Processes.begin(), Processes.end(), [&](const Process &O) {
      return O.Pid == Root.Ppid && O.Id != Root.Id;
    });
    if (!HasParent && !Placed.count(Root.Id))
      place(place, Root);
  }
  for (const Process &Rest : Processes) // a cycle of pids (reused ones): still shown
    if (!Placed.count(Rest.Id))
      place(place, Rest);

  // Threads: the main one first, the others by their first call.
  auto T = Db.prepare("SELECT t.id, t.tid, coalesce(t.name, ''), v.calls, v.first_ns, "
                      "v.last_ns, v.max_depth FROM threads t JOIN view_threads v "
                      "ON v.thread_id = t.id WHERE t.process_id=?1 "
                      "ORDER BY t.tid != t.pid, v.first_ns, t.id");
  Out += ",\"processes\":[";
  for (size_t I = 0; I < Ordered.size(); ++I) {
    Out += (I ? "," : "") + Ordered[I]->Json;
    T.bind(1, Ordered[I]->Id);
    bool First = true;
    while (T.step()) {
      Out += fmt::format("{}{{\"id\":{},\"tid\":{},\"name\":{},\"calls\":{},\"first\":{},"
                         "\"last\":{},\"max_depth\":{}}}",
                         First ? "" : ",", T.integer(0), T.integer(1), cli::jsonString(T.text(2)),
                         T.integer(3), T.isNull(4) ? 0 : T.integer(4) - Base,
                         T.isNull(5) ? 0 : T.integer(5) - Base, T.integer(6));
      First = false;
    }
    T.reset();
    Out += "]}";
  }
  Out += "],\"sites\":{";
  auto S = Db.prepare("SELECT s.id, s.signature, coalesce(s.file, ''), coalesce(s.line, 0) "
                      "FROM sites s WHERE s.id IN (SELECT site_id FROM view_functions f JOIN "
                      "view_threads v ON v.thread_id = f.thread_id WHERE v.run_id=?1)");
  S.bind(1, Run);
  bool First = true;
  while (S.step()) {
    Out += fmt::format("{}\"{}\":[{},{},{}]", First ? "" : ",", S.integer(0),
                       cli::jsonString(S.text(1)), cli::jsonString(S.text(2)), S.integer(3));
    First = false;
  }
  return Out + "}}";
}

std::string ViewData::slicesJson(const SliceQuery &Q) {
  int64_t Base = runStart(Q.Run);
  int64_t From = Base + Q.From, To = Base + std::max(Q.To, Q.From + 1);
  double PixelNs =
      static_cast<double>(To - From) / static_cast<double>(std::max<int64_t>(Q.Pixels, 1));
  auto Info = Db.prepare("SELECT max_depth FROM view_threads WHERE thread_id=?1 AND run_id=?2");
  auto FilesOf = Db.prepare("SELECT id FROM files WHERE thread_id=?1 ORDER BY id");
  auto Below = Db.prepare("SELECT call_id FROM view_marks WHERE file_id=?1 AND hi_ns < ?2 "
                          "ORDER BY hi_ns DESC LIMIT 1");
  auto Above = Db.prepare("SELECT call_id FROM view_marks WHERE file_id=?1 AND lo_ns > ?2 "
                          "ORDER BY lo_ns LIMIT 1");
  auto Raw = Db.prepare("SELECT depth, start_ns, end_ns, site_id, 1, id, self_ns, broken, "
                        "coalesce(exception_id, 0) FROM calls WHERE id BETWEEN ?1 AND ?2 "
                        "AND end_ns >= ?3 AND start_ns <= ?4 AND end_ns - start_ns < ?5 "
                        "AND depth <= ?6");
  // From the last box starting before the window (it may reach into it) to the window's end.
  auto Level = Db.prepare(
      "SELECT depth, start_ns, end_ns, site_id, count, call_id, self_ns, broken, exception_id "
      "FROM view_lod WHERE thread_id=?1 AND level=?2 AND depth=?3 AND start_ns >= coalesce("
      "(SELECT max(start_ns) FROM view_lod WHERE thread_id=?1 AND level=?2 AND depth=?3 AND "
      "start_ns < ?4), ?4) AND start_ns <= ?5 AND end_ns >= ?4 AND (?6 = 0 OR count = 1 AND "
      "end_ns - start_ns >= ?7)");
  std::set<int64_t> Exceptions;
  std::string Out = fmt::format("{{\"from\":{},\"to\":{},\"threads\":[", Q.From, To - Base);
  for (size_t I = 0; I < Q.Threads.size(); ++I) {
    int64_t Thread = Q.Threads[I];
    Info.bind(1, Thread).bind(2, Q.Run);
    if (!Info.step()) {
      Info.reset();
      throw db::InputError(fmt::format("no thread {} in run {}", Thread, Q.Run));
    }
    int64_t Depth = std::min<int64_t>(Info.integer(0), Q.MaxDepth);
    Info.reset();
    // The id ranges holding the thread's short calls that may overlap the window.
    std::vector<std::pair<int64_t, int64_t>> Ranges;
    int64_t Ids = 0;
    FilesOf.bind(1, Thread);
    while (FilesOf.step()) {
      int64_t File = FilesOf.integer(0), Lo = File << 32, Hi = ((File + 1) << 32) - 1;
      Below.bind(1, File).bind(2, From - FinestBucketNs - ClockSlackNs);
      if (Below.step())
        Lo = Below.integer(0);
      Below.reset();
      Above.bind(1, File).bind(2, To + FinestBucketNs + ClockSlackNs);
      if (Above.step())
        Hi = Above.integer(0);
      Above.reset();
      if (Hi >= Lo) {
        Ranges.push_back({Lo, Hi});
        // Ids are dense within a file, save for a few reserved for calls never recorded.
        auto Last = Db.prepare("SELECT max(id) FROM calls WHERE id BETWEEN ?1 AND ?2");
        Last.bind(1, Lo).bind(2, Hi).step();
        Ids += Last.isNull(0) ? 0 : Last.integer(0) - Lo;
      }
    }
    FilesOf.reset();
    int Chosen = std::min(Q.Level, MaxLevel);
    if (Chosen < 0) {
      Chosen = 0;
      if (Ids > RawLimit)
        for (Chosen = 1; Chosen < MaxLevel && static_cast<double>(bucketNs(Chosen + 1)) <= PixelNs;)
          ++Chosen;
    }
    std::string Rows;
    size_t N = 0;
    bool Truncated = false;
    auto add = [&](db::Statement &S) {
      if (N >= RowCap) {
        Truncated = true;
        return false;
      }
      if (S.integer(8))
        Exceptions.insert(S.integer(8));
      Rows += fmt::format("{}[{},{},{},{},{},{},{},{},{}]", N ? "," : "", S.integer(0),
                          S.integer(1) - Base, S.integer(2) - S.integer(1), S.integer(3),
                          S.integer(4), S.integer(5), S.integer(6), S.integer(7), S.integer(8));
      ++N;
      return true;
    };
    // Level 0: every call, the long ones from level 1 where they are kept whole.
    int LevelRead = Chosen == 0 ? 1 : Chosen;
    for (int64_t D = 0; D <= Depth; ++D) {
      Level.bind(1, Thread).bind(2, LevelRead).bind(3, D).bind(4, From).bind(5, To);
      Level.bind(6, Chosen == 0 ? 1 : 0).bind(7, FinestBucketNs);
      while (Level.step() && add(Level)) {
      }
      Level.reset();
    }
    if (Chosen == 0)
      for (auto [Lo, Hi] : Ranges) {
        Raw.bind(1, Lo).bind(2, Hi).bind(3, From).bind(4, To).bind(5, FinestBucketNs);
        Raw.bind(6, Depth);
        while (Raw.step() && add(Raw)) {
        }
        Raw.reset();
      }
    Out += fmt::format("{}{{\"id\":{},\"level\":{},\"bucket\":{},\"truncated\":{},\"rows\":[{}]}}",
                       I ? "," : "", Thread, Chosen, Chosen ? bucketNs(Chosen) : 0,
                       Truncated ? "true" : "false", Rows);
  }
  Out += "],\"exceptions\":{";
  auto E =
      Db.prepare("SELECT coalesce(type, ''), coalesce(message, '') FROM exceptions WHERE id=?1");
  bool First = true;
  for (int64_t Id : Exceptions) {
    E.bind(1, Id);
    if (E.step()) {
      Out += fmt::format("{}\"{}\":[{},{}]", First ? "" : ",", Id, cli::jsonString(E.text(0)),
                         cli::jsonString(E.text(1)));
      First = false;
    }
    E.reset();
  }
  return Out + "}}";
}

std::string ViewData::callJson(int64_t CallId) {
  auto C = Db.prepare("SELECT c.run_id, c.thread_id, c.site_id, c.start_ns, c.end_ns, "
                      "c.duration_ns, c.self_ns, c.depth, c.parent_id, c.broken, c.cpu_ns, "
                      "c.self_cpu_ns, e.type, e.message, e.traceback FROM calls c "
                      "LEFT JOIN exceptions e ON e.id = c.exception_id WHERE c.id=?1");
  C.bind(1, CallId);
  if (!C.step())
    throw db::InputError(fmt::format("no call {}", CallId));
  int64_t Base = runStart(C.integer(0));
  auto optional = [&](int I) {
    return C.isNull(I) ? std::string("null") : std::to_string(C.integer(I));
  };
  auto text = [&](int I) { return C.isNull(I) ? std::string("null") : cli::jsonString(C.text(I)); };
  std::string Out = fmt::format(
      "{{\"id\":{},\"run\":{},\"thread\":{},\"site\":{},\"start\":{},\"duration\":{},\"elapsed\":{}"
      ","
      "\"self\":{},\"depth\":{},\"broken\":{},\"cpu\":{},\"self_cpu\":{},\"error_type\":{},"
      "\"error_message\":{},\"traceback\":{},\"path\":[",
      CallId, C.integer(0), C.integer(1), C.integer(2), C.integer(3) - Base, C.integer(5),
      C.integer(4) - C.integer(3), C.integer(6), C.integer(7), C.integer(9) ? "true" : "false",
      optional(10), optional(11), text(12), text(13), text(14));
  // The path from the outermost call down, read up the parent ids.
  constexpr int MaxPath = 1000;
  std::vector<std::string> Path;
  auto Up =
      Db.prepare("SELECT id, site_id, start_ns, duration_ns, parent_id FROM calls WHERE id=?1");
  int64_t Parent = C.isNull(8) ? 0 : C.integer(8);
  int Skipped = 0;
  while (Parent) {
    Up.bind(1, Parent);
    if (!Up.step())
      break;
    if (Path.size() < MaxPath)
      Path.push_back(fmt::format("[{},{},{},{}]", Up.integer(0), Up.integer(1),
                                 Up.integer(2) - Base, Up.integer(3)));
    else
      ++Skipped;
    Parent = Up.isNull(4) ? 0 : Up.integer(4);
    Up.reset();
  }
  for (size_t I = Path.size(); I-- > 0;)
    Out += Path[I] + (I ? "," : "");
  return Out + fmt::format("],\"path_skipped\":{}}}", Skipped);
}

namespace {

/// The thread ids a request means: one, or (0) every thread of the run.
std::vector<int64_t> threadsOf(db::Database &Db, int64_t Run, int64_t Thread) {
  if (Thread)
    return {Thread};
  std::vector<int64_t> Out;
  auto S = Db.prepare("SELECT thread_id FROM view_threads WHERE run_id=?1 ORDER BY thread_id");
  S.bind(1, Run);
  while (S.step())
    Out.push_back(S.integer(0));
  return Out;
}

} // namespace

std::string ViewData::flameJson(int64_t Run, int64_t Thread, double MinFraction) {
  prepare(Run);
  auto Threads = threadsOf(Db, Run, Thread);
  // Merged across threads by path: a node per (merged parent, site).
  struct Merged {
    int64_t Parent, Site, Calls = 0, Total = 0, Self = 0;
  };
  std::vector<Merged> Nodes;
  std::map<std::pair<int64_t, int64_t>, int64_t> Index;
  std::unordered_map<int64_t, int64_t> ToMerged;
  auto S = Db.prepare("SELECT id, parent, site_id, calls, total_ns, self_ns FROM view_nodes "
                      "WHERE thread_id=?1 ORDER BY id");
  for (int64_t T : Threads) {
    S.bind(1, T);
    while (S.step()) {
      int64_t Parent = S.isNull(1) ? -1 : ToMerged.at(S.integer(1));
      auto [It, New] = Index.try_emplace({Parent, S.integer(2)}, Nodes.size());
      if (New)
        Nodes.push_back({Parent, S.integer(2)});
      Merged &M = Nodes[static_cast<size_t>(It->second)];
      M.Calls += S.integer(3);
      M.Total += S.integer(4);
      M.Self += S.integer(5);
      ToMerged[S.integer(0)] = It->second;
    }
    S.reset();
  }
  int64_t Root = 0;
  for (const Merged &M : Nodes)
    if (M.Parent < 0)
      Root += M.Total;
  // Nodes too small to see are left out, and so are their children (never bigger); so are
  // frames too deep to read (a recursion 30 000 deep is one tall column).
  auto Threshold = static_cast<int64_t>(static_cast<double>(Root) * MinFraction);
  std::vector<int64_t> Kept(Nodes.size(), -1), Depth(Nodes.size(), 0);
  std::string Out = fmt::format("{{\"total\":{},\"nodes\":[", Root);
  int64_t N = 0, Dropped = 0;
  constexpr int64_t MaxNodes = 50'000, MaxDepth = 200;
  for (size_t I = 0; I < Nodes.size(); ++I) {
    const Merged &M = Nodes[I];
    bool ParentKept = M.Parent < 0 || Kept[static_cast<size_t>(M.Parent)] >= 0;
    Depth[I] = M.Parent < 0 ? 0 : Depth[static_cast<size_t>(M.Parent)] + 1;
    if (!ParentKept || M.Total < Threshold || N >= MaxNodes || Depth[I] >= MaxDepth) {
      ++Dropped;
      continue;
    }
    Kept[I] = N;
    Out += fmt::format("{}[{},{},{},{},{}]", N ? "," : "",
                       M.Parent < 0 ? -1 : Kept[static_cast<size_t>(M.Parent)], M.Site, M.Calls,
                       M.Total, M.Self);
    ++N;
  }
  return Out + fmt::format("],\"left_out\":{},\"min_fraction\":{}}}", Dropped, MinFraction);
}

std::string ViewData::functionsJson(int64_t Run, int64_t Thread) {
  prepare(Run);
  auto S = Db.prepare("SELECT site_id, sum(calls), sum(total_ns), sum(self_ns), max(max_ns), "
                      "sum(broken) FROM view_functions WHERE thread_id IN (" +
                      idList(threadsOf(Db, Run, Thread)) + ") GROUP BY site_id ORDER BY 4 DESC");
  std::string Out = "[";
  while (S.step())
    Out += fmt::format("{}[{},{},{},{},{},{}]", Out.size() > 1 ? "," : "", S.integer(0),
                       S.integer(1), S.integer(2), S.integer(3), S.integer(4), S.integer(5));
  return Out + "]";
}

std::string ViewData::longestJson(int64_t Run, const std::vector<int64_t> &Sites) {
  int64_t Base = runStart(Run);
  // One index seek per function (calls_by_site orders each one's calls by duration).
  auto S = Db.prepare("SELECT id, duration_ns FROM calls WHERE run_id=?1 AND site_id=?2 "
                      "ORDER BY duration_ns DESC LIMIT 1");
  int64_t Best = 0, BestDuration = -1;
  for (int64_t Site : Sites) {
    S.bind(1, Run).bind(2, Site);
    if (S.step() && S.integer(1) > BestDuration) {
      Best = S.integer(0);
      BestDuration = S.integer(1);
    }
    S.reset();
  }
  if (!Best)
    return "null";
  auto C = Db.prepare("SELECT thread_id, start_ns, end_ns, depth FROM calls WHERE id=?1");
  C.bind(1, Best).step();
  return fmt::format("{{\"id\":{},\"thread\":{},\"start\":{},\"elapsed\":{},\"depth\":{}}}", Best,
                     C.integer(0), C.integer(1) - Base, C.integer(2) - C.integer(1), C.integer(3));
}

} // namespace scopeprof::view
