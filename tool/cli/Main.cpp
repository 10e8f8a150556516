// `scopeprof`: dispatches git-style subcommands; `rewrite` and `cc` exec the LLVM-linked
// scopeprof-rewrite and scopeprof-cc.
#include "Args.h"
#include "Commands.h"
#include "scopeprof/Version.h"

#include <fmt/core.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

using namespace scopeprof::cli;

namespace {

struct Command {
  const char *Name;
  const char *Summary;
  int (*Run)(const std::vector<std::string> &);
};

int runRewrite(const std::vector<std::string> &Args);
int runCc(const std::vector<std::string> &Args);

const Command Commands[] = {
    {"rewrite", "insert profiling scopes into a source tree (see scopeprof rewrite --help)",
     runRewrite},
    {"cc", "a compiler launcher: scopeprof cc COMPILER ARGS... profiles any build (docs/commands/cc.md)",
     runCc},
    {"rules", "check a rules file, or ask which rule decides for a function", runRules},
    {"load", "merge runs into a SQLite database", runLoad},
    {"report", "the bottleneck table: where the time goes", runReport},
    {"export", "a run as Chrome trace, flame graph stacks, call tree, call graph or CSV",
     runExport},
    {"diff", "what got slower or faster between two runs (a CI gate: exit 1 on regression)",
     runDiff},
    {"view", "the timeline viewer in the browser, served or as one HTML file", runView},
    {"query", "ask the database a SQL question", runQuery},
    {"run", "run a program, recording off if asked (--disabled); prints its pid and run directory",
     runRun},
    {"ctl", "steer a running program: what it traces, recording on/off, results so far", runCtl},
    {"dump", "print the log files of a run as text", runDump},
};

constexpr const char *Usage = "usage: scopeprof [--help] [--version] <command> [<args>]\n";

void printHelp() {
  fmt::print("scopeprof {}: where does the time go in this C/C++ codebase?\n\n{}\ncommands:\n",
             SCOPEPROF_VERSION, Usage);
  for (const Command &C : Commands)
    fmt::print("  {:<10} {}\n", C.Name, C.Summary);
  fmt::print("\nRun 'scopeprof <command> --help' for a command's options.\n");
}

/// The directory holding this executable, so sibling binaries are found
/// wherever scopeprof is installed.
std::string selfDirectory() {
  char Buf[PATH_MAX];
  ssize_t N = readlink("/proc/self/exe", Buf, sizeof(Buf) - 1);
  if (N <= 0)
    return ".";
  std::string Path(Buf, static_cast<size_t>(N));
  return Path.substr(0, Path.rfind('/'));
}

/// Runs the LLVM-linked sibling \p Name in place of this process.
int runSibling(const char *Name, const std::vector<std::string> &Args) {
  std::string Tool = selfDirectory() + "/" + Name;
  std::vector<char *> Argv;
  Argv.push_back(const_cast<char *>(Name));
  for (const auto &A : Args)
    Argv.push_back(const_cast<char *>(A.c_str()));
  Argv.push_back(nullptr);
  execv(Tool.c_str(), Argv.data());
  printError("cannot run '{}': {}", Tool, std::strerror(errno));
  return ExitFailure;
}

int runRewrite(const std::vector<std::string> &Args) { return runSibling("scopeprof-rewrite", Args); }
int runCc(const std::vector<std::string> &Args) { return runSibling("scopeprof-cc", Args); }

} // namespace

int main(int Argc, char **Argv) {
  if (Argc < 2)
    return usageError("no command given", Usage);
  std::string Name = Argv[1];
  if (Name == "--help" || Name == "-h" || Name == "help") {
    printHelp();
    return ExitOk;
  }
  if (Name == "--version") {
    fmt::print("scopeprof {}\n", SCOPEPROF_VERSION);
    return ExitOk;
  }
  std::vector<std::string> Rest(Argv + 2, Argv + Argc);
  for (const Command &C : Commands)
    if (Name == C.Name) {
      // Output to a full disk or a closed pipe must fail loudly, not exit 0 with half of it.
      int Exit;
      try {
        Exit = C.Run(Rest);
      } catch (const std::system_error &E) {
        printError("cannot write standard output: {}", E.code().message());
        return ExitFailure;
      }
      // A command that failed has said why; its output failing too is no news.
      if (Exit == ExitOk && (std::fflush(stdout) != 0 || std::ferror(stdout))) {
        printError("cannot write standard output: {}", std::strerror(errno));
        return ExitFailure;
      }
      return Exit;
    }
  return usageError(fmt::format("unknown command '{}'", Name), Usage);
}
