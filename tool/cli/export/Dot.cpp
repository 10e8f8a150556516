// Graphviz call graph: a node per function, an edge per caller and callee, coloured by own
// time, the hot path drawn heavy.
#include "Export.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <set>

namespace scopeprof::cli::exporter {
namespace {

struct Node {
  int64_t Calls = 0, TotalNs = 0, SelfNs = 0;
};
struct Edge {
  int64_t Calls = 0, TotalNs = 0;
};

class Graph : public StackSink {
public:
  void call(const Lane &, const std::vector<int64_t> &Stack, int64_t Total, int64_t Self) override {
    int64_t Site = Stack.back();
    Node &N = Nodes[Site];
    ++N.Calls;
    N.SelfNs += Self;
    // A recursive function's time counts once, at its outermost call.
    if (std::find(Stack.begin(), Stack.end() - 1, Site) == Stack.end() - 1)
      N.TotalNs += Total;
    if (Stack.size() > 1) {
      Edge &E = Edges[{Stack[Stack.size() - 2], Site}];
      ++E.Calls;
      E.TotalNs += Total;
    }
  }

  std::map<int64_t, Node> Nodes;
  std::map<std::pair<int64_t, int64_t>, Edge> Edges;
};

std::string dotString(const std::string &S) {
  std::string Out = "\"";
  for (char C : S)
    Out += C == '"' || C == '\\' ? std::string("\\") + C : std::string(1, C);
  return Out + "\"";
}

std::string calls(int64_t N) { return fmt::format("{} call{}", N, N == 1 ? "" : "s"); }

struct HotPath {
  std::set<int64_t> Nodes;
  std::set<std::pair<int64_t, int64_t>> Edges;
};

/// From the function with the most total time, the heaviest callee again and again: where
/// the time goes. It stops where a callee holds under 1% of the start's time; the start is on
/// it even when no callee is (its time is its own).
HotPath hotPath(const Graph &G) {
  HotPath Path;
  if (G.Nodes.empty())
    return Path;
  auto Start = std::max_element(G.Nodes.begin(), G.Nodes.end(), [](const auto &A, const auto &B) {
    return A.second.TotalNs < B.second.TotalNs;
  });
  Path.Nodes.insert(Start->first);
  std::set<int64_t> Seen{Start->first};
  for (int64_t At = Start->first;;) {
    const std::pair<const std::pair<int64_t, int64_t>, Edge> *Best = nullptr;
    for (auto It = G.Edges.lower_bound({At, INT64_MIN});
         It != G.Edges.end() && It->first.first == At; ++It)
      if (!Seen.count(It->first.second) && (!Best || It->second.TotalNs > Best->second.TotalNs))
        Best = &*It;
    if (!Best || Best->second.TotalNs * 100 < Start->second.TotalNs)
      return Path;
    Path.Edges.insert(Best->first);
    Path.Nodes.insert(Best->first.second);
    At = Best->first.second;
    Seen.insert(At);
  }
}

} // namespace

void exportDot(db::Database &Db, const Options &O, OutputFile &Out) {
  auto Sites = db::loadSiteNames(Db);
  Graph G;
  walkStacks(Db, O, lanes(Db, O), G);
  // Unfiltered, the statistics the reports show (they count the calls that were only
  // counted or sampled, not recorded one by one).
  if (!O.windowed() && O.MinDuration == 0)
    for (const auto &St : db::computeSiteStats(Db, O.Run, O.Filter))
      G.Nodes[St.SiteId] = {St.Calls, St.TotalNs, St.SelfNs};
  HotPath Hot = hotPath(G);
  int64_t MaxSelf = 1, MaxEdge = 1;
  for (const auto &[Site, N] : G.Nodes)
    MaxSelf = std::max(MaxSelf, N.SelfNs);
  for (const auto &[Key, E] : G.Edges)
    MaxEdge = std::max(MaxEdge, E.TotalNs);
  Out.print("digraph calls {{\n  node [shape=box, style=filled, fontname=\"monospace\"];\n");
  for (const auto &[Site, N] : G.Nodes) {
    // Heat: white for no own time, through orange to red for the most.
    double Heat = static_cast<double>(N.SelfNs) / static_cast<double>(MaxSelf);
    Out.print("  s{} [label={}, fillcolor=\"{:.3f} {:.3f} 1.000\"{}];\n", Site,
              dotString(fmt::format("{}\n{}, total {}, self {}", Sites[Site].Signature,
                                    calls(N.Calls), formatDuration(static_cast<double>(N.TotalNs)),
                                    formatDuration(static_cast<double>(N.SelfNs)))),
              0.15 * (1 - Heat), Heat, Hot.Nodes.count(Site) ? ", color=red, penwidth=3" : "");
  }
  for (const auto &[Key, E] : G.Edges) {
    bool OnPath = Hot.Edges.count(Key);
    Out.print("  s{} -> s{} [label={}, penwidth={:.1f}{}];\n", Key.first, Key.second,
              dotString(fmt::format("{}, {}", calls(E.Calls),
                                    formatDuration(static_cast<double>(E.TotalNs)))),
              OnPath ? 4.0
                     : 1 + 2.0 * static_cast<double>(E.TotalNs) / static_cast<double>(MaxEdge),
              OnPath ? ", color=red" : "");
  }
  Out.print("}}\n");
}

} // namespace scopeprof::cli::exporter
