// The case registry and runner: which cases run (--case, skip/accept under --profiler), how
// often (--warmup, --repeat), and each repetition's case interval in the log (docs/cases.md).
#include <scopeprof/cases.h>

#include "scopeprof/rules/Glob.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <unistd.h>

namespace scopeprof {
namespace {

constexpr const char *Usage =
    "usage: %s [--list] [--case GLOB]... [--profiler time|memory|cpu] [--repeat N] [--warmup N]\n";

constexpr const char *Help = R"(
Runs the profile cases of this program (SCOPEPROF_CASE) and records each one's calls.

  --list             the cases, with [skip], [skip under P] and [only under P] marks
  --case GLOB        only the cases whose Suite::name matches (Demo::slow, 'Demo::*',
                     '{Demo,Load}::*'); may be given several times
  --profiler P       time (the default: the scopes alone), memory (allocations and bytes per
                     call) or cpu (CPU and waiting time per call); skip()/accept() options
                     refer to it. memory and cpu set SCOPEPROF_COUNTERS and start the program
                     again with it (the runtime reads it once, at start)
  --repeat N         measured repetitions of each case (default 1)
  --warmup N         repetitions before those, recorded as warm-ups (default 0)

exit status: 0 every case that ran passed, 1 a case threw, 2 bad arguments
)";

/// The profilers and the SCOPEPROF_COUNTERS each one needs.
struct ProfilerSpec {
  const char *Name, *Counters;
};
constexpr ProfilerSpec Profilers[] = {{"time", "none"}, {"memory", "memory"}, {"cpu", "cpu"}};

const ProfilerSpec *findProfiler(const char *Name) {
  for (const ProfilerSpec &P : Profilers)
    if (Name && std::strcmp(P.Name, Name) == 0)
      return &P;
  return nullptr;
}

std::vector<detail::CaseInfo> &registry() {
  // A function-local static: registration runs in static initializers of other files.
  static std::vector<detail::CaseInfo> Cases;
  return Cases;
}

const char *CurrentProfiler = "time";

std::string fullName(const detail::CaseInfo &C) { return std::string(C.Suite) + "::" + C.Name; }

/// " [skip]", " [skip under memory]", " [only under cpu]": what --list shows.
std::string marks(const detail::CaseInfo &C) {
  std::string Out, Only;
  for (const CaseOption &O : C.Options) {
    if (O.K == CaseOption::Skip)
      Out += " [skip]";
    else if (O.K == CaseOption::SkipUnder)
      Out += std::string(" [skip under ") + O.Profiler + "]";
    else
      Only += std::string(Only.empty() ? "" : ", ") + O.Profiler;
  }
  return Out + (Only.empty() ? "" : " [only under " + Only + "]");
}

/// Why \p C does not run under \p Profiler, or nullopt when it does.
std::optional<std::string> skipReason(const detail::CaseInfo &C, const std::string &Profiler) {
  bool Accepted = false;
  std::string Only;
  for (const CaseOption &O : C.Options) {
    if (O.K == CaseOption::Skip)
      return std::string("skip()");
    if (O.K == CaseOption::SkipUnder && Profiler == O.Profiler)
      return "skip(\"" + Profiler + "\")";
    if (O.K == CaseOption::Accept) {
      Only += std::string(Only.empty() ? "" : ", ") + O.Profiler;
      Accepted |= Profiler == O.Profiler;
    }
  }
  if (!Only.empty() && !Accepted)
    return "only under " + Only;
  return std::nullopt;
}

int usageError(const char *Program, const std::string &Message) {
  std::fprintf(stderr, "scopeprof: error: %s\n", Message.c_str());
  std::fprintf(stderr, Usage, Program);
  return 2;
}

/// "std::runtime_error: what" for the exception being handled.
std::string describeCurrentException() {
  std::string Type = "unknown exception";
  if (const std::type_info *T = abi::__cxa_current_exception_type()) {
    int Status = 0;
    char *Demangled = abi::__cxa_demangle(T->name(), nullptr, nullptr, &Status);
    Type = Demangled ? Demangled : T->name();
    std::free(Demangled);
  }
  try {
    throw;
  } catch (const std::exception &E) {
    return Type + ": " + E.what();
  } catch (...) {
    return Type;
  }
}

/// Runs one repetition; on failure returns what went wrong.
std::optional<std::string> runOnce(const detail::CaseInfo &C, const std::string &Name,
                                   uint32_t Repetition, bool Warmup) {
  std::unique_ptr<Case> Fixture;
  try {
    Fixture.reset(C.Make());
    Fixture->setUp();
  } catch (...) {
    return "setUp threw " + describeCurrentException();
  }
  std::optional<std::string> Failure;
  scopeprof_case_begin(Name.c_str(), Repetition, Warmup ? SCOPEPROF_CASE_WARMUP : 0);
  try {
    Fixture->runCase();
  } catch (...) {
    Failure = "threw " + describeCurrentException();
  }
  scopeprof_case_end(Failure ? SCOPEPROF_CASE_FAILED : 0);
  try {
    Fixture->tearDown();
    Fixture.reset();
  } catch (...) {
    if (!Failure)
      Failure = "tearDown threw " + describeCurrentException();
  }
  return Failure;
}

/// Whether \p Text is a whole decimal number no greater than \p Max.
std::optional<uint32_t> parseCount(const char *Text, uint32_t Max) {
  char *End = nullptr;
  if (!*Text || !std::isdigit(static_cast<unsigned char>(*Text)))
    return std::nullopt;
  unsigned long long V = std::strtoull(Text, &End, 10);
  if (*End || V > Max)
    return std::nullopt;
  return static_cast<uint32_t>(V);
}

} // namespace

const char *profiler() { return CurrentProfiler; }

bool detail::registerCase(CaseInfo Info) {
  registry().push_back(std::move(Info));
  return true;
}

int runCases(int Argc, char **Argv) {
  const char *Program = Argc > 0 ? Argv[0] : "cases";
  bool List = false;
  std::vector<std::string> Patterns;
  const char *ProfilerName = nullptr;
  uint32_t Repeat = 1, Warmup = 0;
  // Repetitions are counted in 32 bits in the log; a million is more than anyone waits for.
  constexpr uint32_t MaxRepetitions = 1'000'000;
  for (int I = 1; I < Argc; ++I) {
    std::string Arg = Argv[I];
    std::string Option = Arg.substr(0, Arg.find('='));
    auto Value = [&]() -> const char * {
      if (Arg.size() > Option.size())
        return Argv[I] + Option.size() + 1;
      return I + 1 < Argc ? Argv[++I] : nullptr;
    };
    if (Arg == "--help" || Arg == "-h") {
      std::printf(Usage, Program);
      std::printf("%s", Help);
      return 0;
    }
    if (Arg == "--list") {
      List = true;
    } else if (Option == "--case" || Option == "--profiler" || Option == "--repeat" ||
               Option == "--warmup") {
      const char *V = Value();
      if (!V)
        return usageError(Program, Option + " needs a value");
      if (Option == "--case") {
        Patterns.push_back(V);
      } else if (Option == "--profiler") {
        if (!findProfiler(V))
          return usageError(Program, std::string("unknown profiler '") + V +
                                         "' (expected time, memory or cpu)");
        ProfilerName = V;
      } else {
        auto Count = parseCount(V, MaxRepetitions);
        if (!Count || (Option == "--repeat" && *Count == 0))
          return usageError(Program, Option + " needs a number from " +
                                         (Option == "--repeat" ? "1" : "0") + " to " +
                                         std::to_string(MaxRepetitions) + ", not '" + V + "'");
        (Option == "--repeat" ? Repeat : Warmup) = *Count;
      }
    } else {
      return usageError(Program, "unknown argument '" + Arg + "'");
    }
  }

  // The cases themselves are checked before anything runs: a typo in an option or two cases of
  // one name would otherwise show only as a case that never runs.
  const auto &Cases = registry();
  for (size_t I = 0; I < Cases.size(); ++I) {
    for (const CaseOption &O : Cases[I].Options)
      if (O.K != CaseOption::Skip && !findProfiler(O.Profiler)) {
        std::fprintf(stderr,
                     "scopeprof: error: %s:%d: case %s names unknown profiler '%s' (expected "
                     "time, memory or cpu)\n",
                     Cases[I].File, Cases[I].Line, fullName(Cases[I]).c_str(),
                     O.Profiler ? O.Profiler : "");
        return 2;
      }
    for (size_t J = 0; J < I; ++J)
      if (fullName(Cases[J]) == fullName(Cases[I])) {
        std::fprintf(stderr, "scopeprof: error: two cases named %s (%s:%d and %s:%d)\n",
                     fullName(Cases[I]).c_str(), Cases[J].File, Cases[J].Line, Cases[I].File,
                     Cases[I].Line);
        return 2;
      }
  }

  std::vector<bool> Selected(Cases.size(), Patterns.empty());
  for (const std::string &Pattern : Patterns) {
    rules::GlobError Err;
    auto Glob = rules::Glob::compile(Pattern, rules::Separator::Scope, &Err);
    if (!Glob)
      return usageError(Program, "bad --case pattern '" + Pattern + "': column " +
                                     std::to_string(Err.Column + 1) + ": " + Err.Message);
    bool Any = false;
    for (size_t I = 0; I < Cases.size(); ++I)
      if (Glob->matches(fullName(Cases[I])))
        Selected[I] = Any = true;
    if (!Any)
      return usageError(Program, "no case matches '" + Pattern + "' (--list shows them)");
  }

  if (List) {
    for (size_t I = 0; I < Cases.size(); ++I)
      if (Selected[I])
        std::printf("%s%s\n", fullName(Cases[I]).c_str(), marks(Cases[I]).c_str());
    return 0;
  }

  if (ProfilerName) {
    // The runtime reads SCOPEPROF_COUNTERS once, when the program starts: when it differs,
    // the program starts again with it. The new image joins the same run directory.
    const char *Counters = findProfiler(ProfilerName)->Counters;
    const char *Now = std::getenv("SCOPEPROF_COUNTERS");
    if (!Now || std::strcmp(Now, Counters) != 0) {
      setenv("SCOPEPROF_COUNTERS", Counters, 1);
      std::fflush(nullptr);
      execv("/proc/self/exe", Argv);
      std::fprintf(stderr, "scopeprof: error: cannot start '%s' again with SCOPEPROF_COUNTERS=%s: %s\n",
                   Program, Counters, std::strerror(errno));
      return 1;
    }
    CurrentProfiler = findProfiler(ProfilerName)->Name;
  }

  size_t Ran = 0, Skipped = 0;
  std::vector<std::string> Failed;
  for (size_t I = 0; I < Cases.size(); ++I) {
    if (!Selected[I])
      continue;
    const detail::CaseInfo &C = Cases[I];
    std::string Name = fullName(C);
    if (auto Reason = skipReason(C, CurrentProfiler)) {
      std::printf("skip    %s (%s)\n", Name.c_str(), Reason->c_str());
      ++Skipped;
      continue;
    }
    std::printf("run     %s\n", Name.c_str());
    std::fflush(stdout);
    ++Ran;
    // A failure ends the case's repetitions: the rest would most likely fail alike.
    std::optional<std::string> Failure;
    std::string Where;
    uint32_t Done = 0;
    for (uint32_t R = 1; R <= Warmup && !Failure; ++R)
      if ((Failure = runOnce(C, Name, R, true)))
        Where = "warm-up " + std::to_string(R);
    for (uint32_t R = 1; R <= Repeat && !Failure; ++R, ++Done)
      if ((Failure = runOnce(C, Name, R, false)))
        Where = "repetition " + std::to_string(R);
    if (Failure) {
      std::printf("FAILED  %s: %s (%s)\n", Name.c_str(), Failure->c_str(), Where.c_str());
      Failed.push_back(Name);
    } else {
      std::printf("ok      %s (%u repetition%s, %u warm-up%s)\n", Name.c_str(), Done,
                  Done == 1 ? "" : "s", Warmup, Warmup == 1 ? "" : "s");
    }
    std::fflush(stdout);
  }
  std::string FailedList;
  for (const std::string &Name : Failed)
    FailedList += (FailedList.empty() ? "" : ", ") + Name;
  std::printf("%zu case%s run under %s, %zu skipped, %zu failed%s\n", Ran, Ran == 1 ? "" : "s",
              CurrentProfiler, Skipped, Failed.size(),
              Failed.empty() ? "" : (": " + FailedList).c_str());
  if (const char *Dir = scopeprof_run_dir())
    std::printf("recorded in %s\n", Dir);
  return Failed.empty() ? 0 : 1;
}

} // namespace scopeprof
