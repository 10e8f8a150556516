// `scopeprof load RUN_DIR... --db FILE`: merges runs into a SQLite database.
#include "Args.h"
#include "Commands.h"
#include "Output.h"

#include "Loader.h"
#include "Schema.h"

#include <fmt/core.h>

#include <chrono>
#include <unistd.h>

namespace scopeprof::cli {
namespace {

constexpr const char *Usage =
    "usage: scopeprof load [--strict] [--quiet] --db FILE RUN_DIR|DIR|FILE...\n";

constexpr const char *Help = R"(
Loads every log file (*.splog) of the given runs into FILE, a SQLite database (created when
absent). A directory may be one run or the output directory holding several. Loading is
idempotent: files already loaded add nothing, a run still being written adds its new batches.

  --db FILE   the database (see docs/schema.md)
  --strict    load no part of a run that has any problem (default: load every valid batch)
  --quiet     no progress and no summary

exit status: 0 everything loaded, 1 something could not be loaded (each problem is named on
stderr), 2 bad arguments or database.
)";

} // namespace

int runLoad(const std::vector<std::string> &Argv) {
  int Exit;
  auto Args = parseCommand(Argv, {{"--db", true}, {"--strict"}, {"--quiet"}}, Usage, Help, Exit);
  if (!Args)
    return Exit;
  auto DbPath = Args->value("--db");
  if (!DbPath)
    return usageError("'load' needs --db FILE", Usage);
  if (Args->Positional.empty())
    return usageError("'load' needs at least one run directory", Usage);
  bool Quiet = Args->has("--quiet");
  bool Live = !Quiet && isatty(STDERR_FILENO);

  auto Start = std::chrono::steady_clock::now();
  try {
    auto Db = db::openForLoad(*DbPath);
    db::LoadOptions Options;
    Options.Strict = Args->has("--strict");
    auto LastPrint = Start;
    Options.OnProgress = [&](const db::LoadProgress &P) {
      auto Now = std::chrono::steady_clock::now();
      if (Quiet || Now - LastPrint < std::chrono::milliseconds(Live ? 100 : 5000))
        return;
      LastPrint = Now;
      fmt::print(stderr, "load: {}/{} files, {} calls{}", P.FilesDone, P.FilesTotal, P.Calls,
                 Live ? "\r" : "\n");
    };
    auto Summary = db::loadRuns(*Db, Args->Positional, Options);
    if (Live)
      fmt::print(stderr, "\33[2K");
    for (const auto &N : Summary.Notes)
      fmt::print(stderr, "scopeprof: note: '{}': {}\n", N.Path, N.Message);
    for (const auto &P : Summary.Problems)
      fmt::print(stderr, "scopeprof: warning: '{}'{}: {}\n", P.Path,
                 P.Offset ? fmt::format(" at offset {}", P.Offset) : "", P.Message);
    double Seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();
    if (!Quiet) {
      fmt::print(stderr,
                 "loaded {} calls from {} files of {} runs into '{}' in {:.2f} s (read and insert "
                 "{:.2f} s, index {:.2f} s, statistics {:.2f} s)",
                 Summary.Calls, Summary.Files, Summary.Runs, *DbPath, Seconds,
                 Summary.InsertSeconds, Summary.IndexSeconds, Summary.StatsSeconds);
      if (Summary.UnchangedFiles)
        fmt::print(stderr, "; {} files already loaded", Summary.UnchangedFiles);
      fmt::print(stderr, "\n");
      if (Summary.RejectedRuns)
        fmt::print(stderr, "--strict: {} runs with problems were not loaded\n",
                   Summary.RejectedRuns);
    }
    return Summary.Problems.empty() ? ExitOk : ExitFailure;
  } catch (const db::DbError &E) {
    return reportFailure(E);
  }
}

} // namespace scopeprof::cli
