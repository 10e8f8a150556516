// `scopeprof export DB --format FORMAT -o FILE`: a run for other tools. The options are read
// here; each format is written by its own file in export/.
#include "Args.h"
#include "Commands.h"
#include "Output.h"
#include "export/Export.h"

#include "Cases.h"
#include "Schema.h"
#include "Stats.h"

#include <fmt/core.h>

#include <map>

namespace scopeprof::cli {
namespace {

constexpr const char *Usage =
    "usage: scopeprof export --format perfetto|chrome|speedscope|folded|calltree|dot|csv\n"
    "                        -o FILE[.gz] [--run RUN] [--pid PID] [--tid TID] [--case GLOB]\n"
    "                        [--from TIME] [--to TIME] [--min-duration TIME]\n"
    "                        [--thread-frames auto|yes|no] DB\n";

constexpr const char *Help = R"(
  perfetto    Perfetto protobuf trace: https://ui.perfetto.dev, trace_processor
  chrome      Chrome trace event JSON: ui.perfetto.dev, chrome://tracing, DevTools, speedscope
  speedscope  speedscope's JSON, a timeline per thread: https://www.speedscope.app
  folded      folded stacks (own time in ns) for flamegraph.pl, inferno and speedscope
  calltree    the call tree of every thread as JSON, calls merged by path
  dot         Graphviz call graph coloured by own time, hot path in red (dot -Tsvg FILE)
  csv         one row per call, every time in ns, for spreadsheets

  -o FILE            where to write ('-': stdout); written whole or not at all; gzip when
                     FILE ends in .gz
  --run RUN          run name or id (default: the latest loaded)
  --pid, --tid       only this process / thread
  --case GLOB        only the calls of the profile cases whose names match (Demo::*, the
                     measured repetitions: docs/cases.md)
  --from, --to TIME  only the calls overlapping this window after the run's start (250ms,
                     1.5s, ...); timelines and aggregates cut them to it, csv lists them whole
  --min-duration T   only calls at least this long; in aggregates, a shorter call's time
                     counts as its caller's own time
  --thread-frames W  folded: each stack under a frame for its process and one for its
                     thread: auto (when there is more than one thread), yes or no
)";

using Exporter = void (*)(db::Database &, const exporter::Options &, OutputFile &);

} // namespace

int runExport(const std::vector<std::string> &Argv) {
  int Exit;
  auto Args = parseCommand(Argv,
                           {{"--format", true},
                            {"-o", true},
                            {"--run", true},
                            {"--pid", true},
                            {"--tid", true},
                            {"--case", true},
                            {"--from", true},
                            {"--to", true},
                            {"--min-duration", true},
                            {"--thread-frames", true}},
                           Usage, Help, Exit);
  if (!Args)
    return Exit;
  if (Args->Positional.size() != 1)
    return usageError("'export' needs exactly one database", Usage);
  static const std::map<std::string, Exporter> Exporters = {
      {"perfetto", exporter::exportPerfetto},
      {"chrome", exporter::exportChrome},
      {"speedscope", exporter::exportSpeedscope},
      {"folded", exporter::exportFolded},
      {"calltree", exporter::exportCallTree},
      {"dot", exporter::exportDot},
      {"csv", exporter::exportCsv}};
  auto Format = Args->value("--format");
  if (!Format)
    return usageError("'export' needs --format", Usage);
  auto Found = Exporters.find(*Format);
  if (Found == Exporters.end())
    return usageError(fmt::format("unknown export format '{}'", *Format), Usage);
  auto Target = Args->value("-o");
  if (!Target)
    return usageError("'export' needs -o FILE ('-' for stdout)", Usage);
  exporter::Options O;
  for (auto [Option, Field] :
       {std::pair{"--pid", &O.Filter.Pid}, std::pair{"--tid", &O.Filter.Tid}})
    if (auto V = Args->value(Option)) {
      *Field = parseCount(*V);
      if (!*Field)
        return usageError(fmt::format("{} needs a number, not '{}'", Option, *V), Usage);
    }
  std::optional<uint64_t> From, To;
  for (auto [Option, Field] : {std::pair{"--from", &From}, std::pair{"--to", &To}})
    if (auto V = Args->value(Option))
      if (!(*Field = parseDuration(*V)))
        return usageError(fmt::format("{} needs a duration like 250ms, not '{}'", Option, *V),
                          Usage);
  if (From && To && *From > *To)
    return usageError(
        fmt::format("--from {} is after --to {}", *Args->value("--from"), *Args->value("--to")),
        Usage);
  if (auto V = Args->value("--min-duration")) {
    auto D = parseDuration(*V);
    if (!D)
      return usageError(fmt::format("--min-duration needs a duration like 100us, not '{}'", *V),
                        Usage);
    O.MinDuration = *D;
  }
  if (Args->has("--thread-frames") && *Format != "folded")
    return usageError("--thread-frames is for --format folded", Usage);
  auto Frames = Args->value("--thread-frames").value_or("auto");
  if (Frames != "auto" && Frames != "yes" && Frames != "no")
    return usageError(fmt::format("--thread-frames needs auto, yes or no, not '{}'", Frames),
                      Usage);
  try {
    auto Db = db::openForRead(Args->Positional[0]);
    O.Run = db::findRun(*Db, Args->value("--run").value_or(""));
    if (auto Case = Args->value("--case"))
      O.Filter.Cases = db::selectCases(*Db, O.Run, *Case).Ids;
    auto Start = Db->prepare("SELECT coalesce(start_ns, 0) FROM runs WHERE id=?1");
    Start.bind(1, O.Run).step();
    O.RunStart = Start.integer(0);
    if (From)
      O.From = O.RunStart + static_cast<int64_t>(*From);
    if (To)
      O.To = O.RunStart + static_cast<int64_t>(*To);
    O.ThreadFrames = Frames == "yes" || (Frames == "auto" && exporter::lanes(*Db, O).size() > 1);
    OutputFile Out(*Target);
    Found->second(*Db, O, Out);
    Out.commit();
    return ExitOk;
  } catch (const db::DbError &E) {
    return reportFailure(E);
  }
}

} // namespace scopeprof::cli
