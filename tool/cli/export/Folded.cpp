// Folded stacks ("a;b;c SELF_NS" per distinct stack) for flamegraph.pl, inferno and
// speedscope; each stack under its process and thread when there is more than one thread.
#include "Export.h"

#include <fmt/core.h>

#include <map>

namespace scopeprof::cli::exporter {
namespace {

/// flamegraph.pl treats ';' as the frame separator, the last space as the value's and a
/// line as a stack.
std::string frameName(const std::string &Signature) {
  std::string Out = Signature;
  for (char &C : Out)
    if (C == ';')
      C = ',';
    else if (C == '\n' || C == '\r')
      C = ' ';
  return Out;
}

class Folder : public StackSink {
public:
  Folder(db::Database &Db, const Options &O)
      : Sites(db::loadSiteNames(Db)), Frames(O.ThreadFrames) {}

  void beginLane(const Lane &L) override {
    Root = Frames ? frameName(fmt::format("{} (pid {})", L.Process.empty() ? "process" : L.Process,
                                          L.Pid)) +
                        ";" +
                        frameName(fmt::format("{} (tid {})", L.Thread.empty() ? "thread" : L.Thread,
                                              L.Tid))
                  : "";
  }
  void call(const Lane &, const std::vector<int64_t> &Stack, int64_t, int64_t Self) override {
    std::string Path = Root;
    for (int64_t Site : Stack)
      Path += (Path.empty() ? "" : ";") + frameName(Sites[Site].Signature);
    Stacks[Path] += Self;
  }
  void threadOwn(const Lane &, int64_t Ns) override {
    if (!Root.empty()) // without thread frames there is no frame to hold it
      Stacks[Root] += Ns;
  }

  std::map<int64_t, db::SiteName> Sites;
  std::map<std::string, int64_t> Stacks;

private:
  bool Frames;
  std::string Root;
};

} // namespace

void exportFolded(db::Database &Db, const Options &O, OutputFile &Out) {
  Folder F(Db, O);
  walkStacks(Db, O, lanes(Db, O), F);
  for (const auto &[Path, Self] : F.Stacks)
    Out.print("{} {}\n", Path, Self);
}

} // namespace scopeprof::cli::exporter
