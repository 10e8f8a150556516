// `scopeprof dump DIR|FILE`: print log files as text (headers, sites, calls) for debugging and
// tests.
#include "Args.h"
#include "Commands.h"
#include "LogReader.h"

#include "scopeprof/LogFormat.h"

#include "scopeprof/rules/Rules.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <unordered_map>

namespace scopeprof::cli {
namespace {

constexpr const char *Usage = "usage: scopeprof dump [--tree] [--no-times] DIR|FILE...\n";

std::string joinArgs(const std::vector<std::string> &Args) {
  std::string Out;
  for (const auto &A : Args)
    Out += (Out.empty() ? "" : " ") + A;
  return Out;
}

class Printer : public logreader::Visitor {
public:
  Printer(bool Tree, bool Times) : Tree(Tree), Times(Times) {}

  void header(const logreader::FileHeader &H) override {
    fmt::print("  process pid={} ppid={} name=\"{}\" parent=\"{}\" exe=\"{}\" args=\"{}\"\n", H.Pid,
               H.Ppid, H.ProcessName, H.ParentName, H.Exe, joinArgs(H.Args));
    fmt::print("  thread tid={} name=\"{}\" clock={} run={}\n", H.Tid, H.ThreadName, H.Clock,
               H.RunId);
    Base = H.CalibrationNs;
    if (Times)
      fmt::print("  switches {}\n", H.SwitchesSinceNs
                                       ? fmt::format("since={}", H.SwitchesSinceNs - Base)
                                       : std::string("untracked"));
  }
  void site(const logreader::Site &S) override {
    Names[S.Index] = S.Signature;
    fmt::print("  site index={} id={:#018x} kinds={} file=\"{}\" line={} sig=\"{}\"\n", S.Index,
               S.Id, rules::kindNames(S.Kinds), S.File, S.Line, S.Signature);
  }
  void call(const logreader::Call &C) override {
    if (Tree) {
      Pending.push_back({C, Exception});
      return;
    }
    printCall(C, "");
  }
  void exception(const std::string &Type, const std::string &Message) override {
    Exception = Type + ": " + Message;
    if (!Tree)
      fmt::print("  exception type=\"{}\" message=\"{}\"\n", Type, Message);
  }
  void threadName(const std::string &Name) override { fmt::print("  thread-name \"{}\"\n", Name); }
  void summary(uint32_t Index, uint64_t Calls, uint64_t TotalNs) override {
    Summaries[Index] = {Calls, TotalNs};
  }
  void dropped(uint64_t Total) override { Dropped = Total; }
  void throttled(uint32_t Index, uint64_t Calls, uint64_t AtNs) override {
    fmt::print("  throttled site=\"{}\" after={}{}\n", name(Index), Calls,
               Times ? fmt::format(" at={}", AtNs - Base) : "");
  }

  void offCpu(uint64_t OutNs, uint64_t InNs, uint8_t Kind) override {
    // When and how long is all they say: --no-times (stable output for tests) leaves them out.
    ++OffCpuIntervals;
    static const char *const Kinds[] = {"blocked", "preempted", "unknown"};
    if (Times && !Tree)
      fmt::print("  off-cpu start={} dur={} {}\n", OutNs - Base, InNs - OutNs, Kinds[Kind]);
  }

  void caseRun(const logreader::CaseRun &C) override {
    fmt::print("  case name=\"{}\" repetition={}{}{}{}\n", C.Name, C.Repetition,
               C.Flags & format::CaseWarmup ? " warmup" : "",
               C.Flags & format::CaseFailed ? " failed" : "",
               Times ? fmt::format(" start={} dur={}", C.StartNs - Base, C.EndNs - C.StartNs) : "");
  }

  /// Prints what is only complete at the end of a file.
  void finish() {
    if (Tree) {
      // Calls are logged as they end; a tree wants them as they start, outermost first.
      std::stable_sort(Pending.begin(), Pending.end(), [](const auto &A, const auto &B) {
        return A.first.StartNs != B.first.StartNs ? A.first.StartNs < B.first.StartNs
                                                  : A.first.Depth < B.first.Depth;
      });
      for (const auto &[C, Error] : Pending)
        printCall(C, C.Broken ? Error : "");
    }
    for (const auto &[Index, S] : Summaries)
      fmt::print("  summary site=\"{}\" calls={}{}\n", name(Index), S.first,
                 Times ? fmt::format(" total={}", S.second) : "");
    if (Dropped)
      fmt::print("  dropped {}\n", Dropped);
    if (Times && OffCpuIntervals)
      fmt::print("  off-cpu intervals={}\n", OffCpuIntervals);
  }

private:
  std::string name(uint32_t Index) const {
    auto It = Names.find(Index);
    return It == Names.end() ? fmt::format("#{}", Index) : It->second;
  }
  void printCall(const logreader::Call &C, const std::string &Error) {
    std::string Line = Tree ? std::string(2 * C.Depth, ' ') : fmt::format("depth={} ", C.Depth);
    Line += (C.Region ? "region " : "") + name(C.SiteIndex);
    if (Times)
      Line += fmt::format(" start={} dur={}", C.StartNs - Base, C.EndNs - C.StartNs - C.PausedNs);
    if (C.Region && Times)
      Line += fmt::format(" paused={}", C.PausedNs);
    if (C.Broken)
      Line += Error.empty() ? " [broken]" : fmt::format(" [broken: {}]", Error);
    fmt::print("  {}{}\n", Tree ? "" : "call ", Line);
  }

  bool Tree, Times;
  uint64_t Base = 0;
  std::unordered_map<uint32_t, std::string> Names;
  std::vector<std::pair<logreader::Call, std::string>> Pending;
  std::string Exception;
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> Summaries;
  uint64_t Dropped = 0;
  uint64_t OffCpuIntervals = 0;
};

} // namespace

int runDump(const std::vector<std::string> &Argv) {
  int Exit;
  auto Args = parseCommand(Argv, {{"--tree"}, {"--no-times"}}, Usage, "", Exit);
  if (!Args)
    return Exit;
  if (Args->Positional.empty())
    return usageError("'dump' needs a run directory or log file", Usage);
  bool Clean = true;
  for (const auto &Path : Args->Positional) {
    std::string Error;
    auto Files = logreader::findLogFiles(Path, Error);
    if (!Error.empty()) {
      printError("{}", Error);
      Clean = false;
    } else if (Files.empty()) {
      printError("no scopeprof log files (*.splog) in '{}'", Path);
      Clean = false;
    }
    for (const auto &File : Files) {
      fmt::print("file {}\n", File);
      Printer P(Args->has("--tree"), !Args->has("--no-times"));
      auto Result = logreader::readLogFile(File, P);
      P.finish();
      for (const auto &Problem : Result.Problems) {
        fmt::print("  problem offset={}{} \"{}\"\n", Problem.Offset, Problem.Torn ? " torn" : "",
                   Problem.Message);
        fmt::print(stderr, "scopeprof: warning: '{}' at offset {}: {}\n", File, Problem.Offset,
                   Problem.Message);
        Clean = false;
      }
    }
  }
  return Clean ? ExitOk : ExitFailure;
}

} // namespace scopeprof::cli
