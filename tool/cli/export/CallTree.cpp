// The call tree of every thread as JSON, calls merged by path.
#include "Export.h"

#include <map>

namespace scopeprof::cli::exporter {
namespace {

struct TreeNode {
  int64_t Calls = 0, TotalNs = 0, SelfNs = 0;
  std::map<int64_t, TreeNode> Children; // by site
};

class TreeBuilder : public StackSink {
public:
  void call(const Lane &L, const std::vector<int64_t> &Stack, int64_t Total,
            int64_t Self) override {
    TreeNode *N = &Threads[L.ThreadId];
    for (int64_t Site : Stack)
      N = &N->Children[Site];
    ++N->Calls;
    N->TotalNs += Total;
    N->SelfNs += Self;
  }

  std::map<int64_t, TreeNode> Threads;
};

void printTree(OutputFile &Out, const std::map<int64_t, TreeNode> &Nodes,
               std::map<int64_t, db::SiteName> &Sites, int Indent) {
  bool First = true;
  std::string Pad(static_cast<size_t>(Indent), ' ');
  for (const auto &[Site, N] : Nodes) {
    Out.print("{}\n{}{{\"function\":{},\"file\":{},\"calls\":{},\"total_ns\":{},\"self_ns\":{},"
              "\"children\":[",
              First ? "" : ",", Pad, jsonString(Sites[Site].Signature),
              jsonString(Sites[Site].location()), N.Calls, N.TotalNs, N.SelfNs);
    First = false;
    printTree(Out, N.Children, Sites, Indent + 1);
    Out.print("{}]}}", N.Children.empty() ? "" : "\n" + Pad);
  }
}

} // namespace

void exportCallTree(db::Database &Db, const Options &O, OutputFile &Out) {
  auto Sites = db::loadSiteNames(Db);
  auto Lanes = lanes(Db, O);
  TreeBuilder B;
  walkStacks(Db, O, Lanes, B);
  Out.print("{{\"threads\":[");
  bool First = true;
  for (const Lane &L : Lanes) {
    auto It = B.Threads.find(L.ThreadId);
    if (It == B.Threads.end())
      continue;
    Out.print("{}\n{{\"pid\":{},\"tid\":{},\"thread\":{},\"process\":{},\"calls\":[",
              First ? "" : ",", L.Pid, L.Tid, jsonString(L.Thread), jsonString(L.Process));
    First = false;
    printTree(Out, It->second.Children, Sites, 1);
    Out.print("]}}");
  }
  Out.print("\n]}}\n");
}

} // namespace scopeprof::cli::exporter
