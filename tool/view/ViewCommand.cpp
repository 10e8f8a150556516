// `scopeprof view DB`: the timeline viewer served on 127.0.0.1; `view DB -o FILE.html`: the
// same viewer in one self-contained file.
#include "Args.h"
#include "Commands.h"
#include "Output.h"
#include "StaticReport.h"
#include "ViewData.h"
#include "ViewServer.h"

#include "Schema.h"
#include "Stats.h"

#include <fmt/core.h>

#include <cmath>
#include <cstdio>

namespace scopeprof::cli {
namespace {

constexpr const char *Usage =
    "usage: scopeprof view [--port N] [--run RUN] DB\n"
    "       scopeprof view -o FILE.html [--max-size SIZE] [--run RUN] DB\n";

constexpr const char *Help = R"(
  Serves the timeline viewer on http://127.0.0.1:PORT/ (the loopback only) until stopped, or
  writes it with one run's data to one self-contained HTML file.

  --port N          the port to listen on (default: a free one; the URL is printed)
  --run RUN         the run shown first, by name or id (default: the latest loaded); the file
                    holds this run only
  -o FILE.html      write the single file instead of serving; written whole or not at all
  --max-size SIZE   the file's size budget (default 4M; K, M, G): coarser
                    timeline detail where the run does not fit, and the page says so
)";

/// "4M", "500K", "1.5MB", "2G", "100000" (bytes); nullopt when malformed or zero.
std::optional<uint64_t> parseSize(const std::string &Text) {
  size_t End = 0;
  double Value = 0;
  try {
    Value = std::stod(Text, &End);
  } catch (const std::exception &) {
    return std::nullopt;
  }
  std::string Unit = Text.substr(End);
  if (!Unit.empty() && (Unit.back() == 'B' || Unit.back() == 'b'))
    Unit.pop_back();
  double Scale = Unit.empty()                 ? 1
                 : Unit == "K" || Unit == "k" ? 1 << 10
                 : Unit == "M" || Unit == "m" ? 1 << 20
                 : Unit == "G" || Unit == "g" ? 1 << 30
                                              : 0;
  if (End == 0 || Scale == 0 || !std::isfinite(Value) || Value <= 0 || Value * Scale > 1e12 ||
      !std::isdigit(static_cast<unsigned char>(Text[0])))
    return std::nullopt;
  return static_cast<uint64_t>(Value * Scale);
}

} // namespace

int runView(const std::vector<std::string> &Argv) {
  int Exit;
  auto Args =
      parseCommand(Argv, {{"--port", true}, {"--run", true}, {"-o", true}, {"--max-size", true}},
                   Usage, Help, Exit);
  if (!Args)
    return Exit;
  if (Args->Positional.size() != 1)
    return usageError("'view' needs exactly one database", Usage);
  auto Target = Args->value("-o");
  if (Target && Args->has("--port"))
    return usageError("--port serves the viewer; -o writes a file: give one of them", Usage);
  if (!Target && Args->has("--max-size"))
    return usageError("--max-size is the budget of the file -o writes", Usage);
  int Port = 0;
  if (auto V = Args->value("--port")) {
    auto N = parseCount(*V);
    if (!N || *N > 65535)
      return usageError(fmt::format("--port needs a port number (0-65535), not '{}'", *V), Usage);
    Port = static_cast<int>(*N);
  }
  uint64_t MaxSize = 4 << 20;
  if (auto V = Args->value("--max-size")) {
    auto N = parseSize(*V);
    if (!N)
      return usageError(fmt::format("--max-size needs a size like 4M or 500K, not '{}'", *V),
                        Usage);
    MaxSize = *N;
  }
  const std::string &Path = Args->Positional[0];
  try {
    auto Db = db::openForRead(Path);
    int64_t Run = db::findRun(*Db, Args->value("--run").value_or(""));
    view::ViewData Data(*Db);
    if (Target) {
      std::string Summary = view::writeReport(Data, Run, *Target, MaxSize);
      fmt::print("wrote '{}': {}\n", *Target, Summary);
      return ExitOk;
    }
    view::serve(Data, Run, Port, [&](int Bound) {
      // Ready before the address is given: the page's first requests need the run prepared.
      // That reads every call once, half a minute for 10 M: say so rather than seem to hang.
      auto Calls = Db->prepare("SELECT total(calls) FROM files WHERE run_id=?1");
      Calls.bind(1, Run).step();
      if (Calls.real(0) >= 1e6)
        fmt::print(stderr, "scopeprof: reading the {:.0f} calls of the run for the viewer...\n",
                   Calls.real(0));
      Data.prepare(Run);
      fmt::print("viewing '{}' at http://127.0.0.1:{}/ (Ctrl-C stops)\n", Path, Bound);
      std::fflush(stdout);
    });
    return ExitOk;
  } catch (const db::DbError &E) {
    return reportFailure(E);
  }
}

} // namespace scopeprof::cli
