// The single-file report: the embedded page with its scripts and styles inlined and the data
// the server would answer, precomputed. The data is summarized to fit the size budget: the
// coarse levels of the timeline first, then finer ones while they fit, individual calls last.
#include "StaticReport.h"

#include "Assets.h"
#include "Output.h"

#include <fmt/core.h>

namespace scopeprof::view {
namespace {

/// \p Json made safe inside a <script> element: '<' only occurs in its strings, where
/// "\u003c" means the same, and "</script>" or "<!--" could end or upset the element.
std::string scriptSafe(const std::string &Json) {
  std::string Out;
  Out.reserve(Json.size());
  for (char C : Json)
    Out += C == '<' ? std::string("\\u003c") : std::string(1, C);
  return Out;
}

/// The page with its style sheet and scripts inlined and \p Data in a JSON script element.
std::string page(const std::string &Data) {
  std::string Html(asset("index.html"));
  auto inlineTag = [&](const std::string &Tag, const std::string &Open, const std::string &Close,
                       std::string_view Body) {
    auto At = Html.find(Tag);
    if (At == std::string::npos)
      throw db::DbError("the embedded page lacks " + Tag);
    std::string Safe(Body);
    // Our own scripts never hold "</"; keep it so should one ever do.
    for (size_t P = 0; (P = Safe.find("</", P)) != std::string::npos; P += 3)
      Safe.replace(P, 2, "<\\/");
    Html.replace(At, Tag.size(), Open + Safe + Close);
  };
  inlineTag("<link rel=\"stylesheet\" href=\"style.css\">", "<style>", "</style>",
            asset("style.css"));
  for (const Asset &A : assets()) {
    std::string Name = A.Name;
    if (Name.size() > 3 && Name.substr(Name.size() - 3) == ".js")
      inlineTag("<script src=\"" + Name + "\"></script>", "<script>", "</script>", A.Data);
  }
  const std::string Marker = "<!-- data -->";
  auto At = Html.find(Marker);
  if (At == std::string::npos)
    throw db::DbError("the embedded page lacks its data marker");
  Html.replace(At, Marker.size(),
               "<script id=\"scopeprof-data\" type=\"application/json\">" + scriptSafe(Data) +
                   "</script>");
  return Html;
}

std::string sizeText(uint64_t Bytes) {
  if (Bytes >= 1 << 20)
    return fmt::format("{:.1f} MB", static_cast<double>(Bytes) / (1 << 20));
  return fmt::format("{:.0f} KB", static_cast<double>(Bytes) / (1 << 10));
}

} // namespace

std::string writeReport(ViewData &Data, int64_t Run, const std::string &Path, uint64_t MaxBytes) {
  std::string RunJson = Data.runJson(Run);
  std::vector<int64_t> Threads;
  auto T = Data.database().prepare(
      "SELECT thread_id FROM view_threads WHERE run_id=?1 ORDER BY thread_id");
  T.bind(1, Run);
  while (T.step())
    Threads.push_back(T.integer(0));
  int64_t Duration = 0;
  {
    auto D = Data.database().prepare("SELECT max(last_ns) FROM view_threads WHERE run_id=?1");
    D.bind(1, Run).step();
    Duration = D.isNull(0) ? 1 : D.integer(0) - Data.runStart(Run) + 1;
  }

  // The parts, most needed first; each is added while the page stays within the budget.
  std::string Required = fmt::format("\"run\":{},\"flame\":{{\"0\":{}}},\"functions\":{{\"0\":{}}}",
                                     RunJson, Data.flameJson(Run, 0), Data.functionsJson(Run, 0));
  uint64_t Fixed = page("").size() + 400; // the page and the summary sentence
  uint64_t Used = Fixed + Required.size();
  if (Used > MaxBytes)
    throw db::DbError(fmt::format("--max-size {} is too small for run {}: the page, its flame "
                                  "graph and function table need {}",
                                  sizeText(MaxBytes), Run, sizeText(Used)));
  std::string PerThread;
  bool AllThreads = true;
  for (int64_t Thread : Threads) {
    std::string Part = fmt::format(",\"{}\":{{\"flame\":{},\"functions\":{}}}", Thread,
                                   Data.flameJson(Run, Thread), Data.functionsJson(Run, Thread));
    if (Used + Part.size() > MaxBytes) {
      AllThreads = false;
      break;
    }
    PerThread += Part;
    Used += Part.size();
  }
  auto slices = [&](int Level) {
    SliceQuery Q;
    Q.Run = Run;
    Q.Threads = Threads;
    Q.From = 0;
    Q.To = Duration;
    Q.MaxDepth = 47; // what the page's lanes show
    Q.Level = Level;
    return Data.slicesJson(Q);
  };
  // From the coarsest level down; level 0 is every call.
  std::string Levels;
  int Finest = Data.levels(Run) + 1;
  auto Rows = Data.database().prepare(
      "SELECT count(*) FROM view_lod l JOIN view_threads v ON v.thread_id = l.thread_id "
      "WHERE v.run_id=?1 AND l.level=?2");
  for (int Level = Finest - 1; Level >= 0; --Level) {
    // A box takes 20 bytes at least: a level that cannot fit is not written out to see.
    int64_t Boxes = Data.callCount(Run);
    if (Level > 0) {
      Rows.bind(1, Run).bind(2, Level).step();
      Boxes = Rows.integer(0);
      Rows.reset();
    }
    if (Used + static_cast<uint64_t>(Boxes) * 20 > MaxBytes)
      break;
    std::string Part = fmt::format("{}\"{}\":{}", Levels.empty() ? "" : ",", Level, slices(Level));
    if (Used + Part.size() > MaxBytes || Part.find("\"truncated\":true") != std::string::npos)
      break;
    Levels += Part;
    Used += Part.size();
    Finest = Level;
  }
  if (Finest > Data.levels(Run))
    throw db::DbError(fmt::format("--max-size {} is too small for run {}: even its coarsest "
                                  "timeline does not fit",
                                  sizeText(MaxBytes), Run));
  std::string Summary =
      Finest == 0
          ? fmt::format("every one of the run's {} calls is included", Data.callCount(Run))
          : fmt::format("the run's {} calls are merged into boxes of at most {} per thread and "
                        "depth (the longest call of each names it), to fit {}; "
                        "'scopeprof view' shows every call",
                        Data.callCount(Run),
                        cli::formatDuration(static_cast<double>(bucketNs(Finest))),
                        sizeText(MaxBytes));
  if (!AllThreads)
    Summary += "; flame graphs and function tables of all threads together only";
  std::string Json = fmt::format("{{\"summary\":{},\"max_size\":{},\"finest_level\":{},\"per_"
                                 "thread\":{{{}}},\"levels\":{{{}}},{}}}",
                                 cli::jsonString(Summary), MaxBytes, Finest,
                                 PerThread.empty() ? "" : PerThread.substr(1), Levels, Required);
  cli::OutputFile Out(Path);
  Out.write(page(Json));
  Out.commit();
  return Summary;
}

} // namespace scopeprof::view
