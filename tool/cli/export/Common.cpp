// The parts every export format shares: lanes in display order and the stream of calls.
#include "Export.h"

#include <fmt/core.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

namespace scopeprof::cli::exporter {

std::vector<Lane> lanes(db::Database &Db, const Options &O) {
  struct Process {
    int64_t Id, Pid, Ppid, Start;
  };
  std::vector<Process> Processes;
  auto P = Db.prepare("SELECT id, pid, coalesce(ppid, 0), coalesce(start_ns, 9223372036854775807) "
                      "FROM processes WHERE run_id=?1 ORDER BY 4, id");
  P.bind(1, O.Run);
  while (P.step())
    Processes.push_back({P.integer(0), P.integer(1), P.integer(2), P.integer(3)});
  // Depth first from the processes whose parent is not in the run; an exec'd image follows
  // the one it replaced (same pid, later start). Processes come sorted by start, and a pid
  // is visited once, so a reused pid cannot loop.
  std::map<int64_t, int64_t> Rank; // processes.id -> rank
  std::set<int64_t> Pids, Visited;
  for (const auto &Pr : Processes)
    Pids.insert(Pr.Pid);
  std::function<void(int64_t)> Visit = [&](int64_t Pid) {
    if (!Visited.insert(Pid).second)
      return;
    for (const auto &Pr : Processes)
      if (Pr.Pid == Pid)
        Rank.emplace(Pr.Id, static_cast<int64_t>(Rank.size()));
    for (const auto &Pr : Processes)
      if (Pr.Ppid == Pid && Pr.Pid != Pid)
        Visit(Pr.Pid);
  };
  for (const auto &Pr : Processes)
    if (!Pids.count(Pr.Ppid) || Pr.Ppid == Pr.Pid)
      Visit(Pr.Pid);
  for (const auto &Pr : Processes) // a cycle of reused pids: no root led there
    Visit(Pr.Pid);

  std::vector<Lane> Out;
  auto T = Db.prepare("SELECT t.id, t.process_id, t.pid, t.tid, coalesce(t.name, ''), "
                      "coalesce(p.name, '') FROM threads t JOIN processes p ON p.id = t.process_id "
                      "WHERE t.run_id=?1");
  T.bind(1, O.Run);
  while (T.step()) {
    Lane L{T.integer(0), T.integer(1), T.integer(2), T.integer(3), T.text(4), T.text(5), 0};
    if ((O.Filter.Pid && L.Pid != *O.Filter.Pid) || (O.Filter.Tid && L.Tid != *O.Filter.Tid))
      continue;
    L.ProcessRank = Rank.count(L.ProcessId) ? Rank[L.ProcessId] : INT64_MAX;
    Out.push_back(std::move(L));
  }
  std::sort(Out.begin(), Out.end(), [](const Lane &A, const Lane &B) {
    auto Key = [](const Lane &L) {
      return std::tuple(L.ProcessRank, L.ProcessId, L.Tid != L.Pid, L.Tid, L.ThreadId);
    };
    return Key(A) < Key(B);
  });
  return Out;
}

std::string laneOrder(const std::vector<Lane> &Lanes) {
  std::string Sql = "CASE c.thread_id";
  for (size_t I = 0; I < Lanes.size(); ++I)
    Sql += fmt::format(" WHEN {} THEN {}", Lanes[I].ThreadId, I);
  return Sql + fmt::format(" ELSE {} END", Lanes.size());
}

CallStream::CallStream(db::Database &Db, const Options &O, const std::vector<Lane> &Lanes)
    : Calls(Db.prepare(
          "SELECT c.id, c.thread_id, c.site_id, c.start_ns, c.end_ns, c.duration_ns, c.self_ns, "
          "c.depth, coalesce(c.exception_id, 0), c.broken, c.cpu_ns, c.allocs, c.alloc_bytes, "
          "c.self_alloc_bytes FROM calls c WHERE c.run_id=?1" +
          std::string(O.Filter.Pid ? " AND c.pid=?2" : "") + (O.Filter.Tid ? " AND c.tid=?3" : "") +
          O.Filter.casesClause("c.case_id") +
          " AND c.end_ns >= ?4 AND c.start_ns <= ?5 AND c.duration_ns >= ?6 ORDER BY " +
          laneOrder(Lanes) + ", c.start_ns, c.depth")) {
  Calls.bind(1, O.Run);
  if (O.Filter.Pid)
    Calls.bind(2, *O.Filter.Pid);
  if (O.Filter.Tid)
    Calls.bind(3, *O.Filter.Tid);
  Calls.bind(4, O.From).bind(5, O.To).bind(6, O.MinDuration);
}

bool CallStream::next(Call &C) {
  if (!Calls.step())
    return false;
  auto Counter = [&](int Column) {
    return Calls.isNull(Column) ? std::nullopt : std::optional(Calls.integer(Column));
  };
  C = {
      Calls.integer(0), Calls.integer(1), Calls.integer(2), Calls.integer(3), Calls.integer(4),
      Calls.integer(5), Calls.integer(6), Calls.integer(7), Calls.integer(8), Calls.integer(9) != 0,
      Counter(10),      Counter(11),      Counter(12),      Counter(13)};
  return true;
}

std::string exceptionText(db::Database &Db, int64_t ExceptionId) {
  auto S = Db.prepare("SELECT type, message FROM exceptions WHERE id=?1");
  S.bind(1, ExceptionId);
  return S.step() ? S.text(0) + ": " + S.text(1) : std::string();
}

} // namespace scopeprof::cli::exporter
