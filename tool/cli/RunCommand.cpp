// `scopeprof run`: runs an instrumented program with the environment set for it (recording off
// with --disabled, an output directory with --out), says its pid and run directory, and exits
// with its status: the way to start a program that `scopeprof ctl` will steer.
#include "Args.h"
#include "Commands.h"
#include "scopeprof/RunDirectory.h"

#include <fmt/core.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace scopeprof::cli {
namespace {

constexpr const char *Usage =
    "usage: scopeprof run [--disabled] [--out DIR] [--] PROGRAM [ARGS...]\n";

constexpr const char *Help = R"(
Runs PROGRAM (built with scopeprof) and prints, on standard error, its pid and the run
directory its logs go to; exits with the program's exit status (128+N when signal N ended it).

  --disabled   start with recording off (SCOPEPROF_ENABLE=0): 'scopeprof ctl PID enable'
               turns it on when the moment comes
  --out DIR    where the run directory is made (SCOPEPROF_OUT; default: scopeprof-out)
)";

/// In the child: the run directory, made for its pid and joined through SCOPEPROF_RUN_DIR, is
/// sent up \p Report, then the program replaces the child. When it cannot run, "!" and errno
/// go up instead.
[[noreturn]] void child(int Report, const std::string &Out, bool Disabled,
                        std::vector<std::string> Argv) {
  std::string Dir = createRunDirectory(Out, getpid());
  if (Dir.empty()) {
    std::string Failure = fmt::format("?{}", errno);
    (void)!write(Report, Failure.data(), Failure.size());
    _exit(127);
  }
  setenv("SCOPEPROF_RUN_DIR", Dir.c_str(), 1);
  unsetenv("SCOPEPROF_RUN_NONCE"); // a run of its own, not one scopeprof itself was part of
  if (Disabled)
    setenv("SCOPEPROF_ENABLE", "0", 1);
  (void)!write(Report, Dir.data(), Dir.size());
  std::vector<char *> Args;
  for (std::string &A : Argv)
    Args.push_back(A.data());
  Args.push_back(nullptr);
  execvp(Args[0], Args.data());
  std::string Failure = fmt::format("\n!{}", errno);
  (void)!write(Report, Failure.data(), Failure.size());
  _exit(127);
}

} // namespace

int runRun(const std::vector<std::string> &Argv) {
  bool Disabled = false;
  std::string Out = getenv("SCOPEPROF_OUT") ? getenv("SCOPEPROF_OUT") : "scopeprof-out";
  size_t I = 0;
  // Options end at the program: its own options are its own.
  for (; I < Argv.size() && Argv[I].size() > 1 && Argv[I][0] == '-'; ++I) {
    const std::string &A = Argv[I];
    if (A == "--") {
      ++I;
      break;
    }
    if (A == "--help" || A == "-h") {
      fmt::print("{}{}", Usage, Help);
      return ExitOk;
    }
    if (A == "--disabled") {
      Disabled = true;
    } else if (A == "--out" && I + 1 < Argv.size()) {
      Out = Argv[++I];
    } else if (A.rfind("--out=", 0) == 0) {
      Out = A.substr(6);
    } else if (A == "--out") {
      return usageError("option '--out' needs a value", Usage);
    } else {
      return usageError(fmt::format("unknown option '{}'", A), Usage);
    }
  }
  if (I == Argv.size())
    return usageError("'run' needs a program to run", Usage);
  if (Out.empty())
    return usageError("--out needs a directory, not ''", Usage);
  std::vector<std::string> Program(Argv.begin() + static_cast<ptrdiff_t>(I), Argv.end());

  int Pipe[2];
  if (pipe2(Pipe, O_CLOEXEC) != 0) {
    printError("cannot run '{}': {}", Program[0], std::strerror(errno));
    return ExitFailure;
  }
  // Ctrl-C and Ctrl-\ are the program's to handle; we report how it ended.
  struct sigaction Ignore = {}, OldInt, OldQuit;
  Ignore.sa_handler = SIG_IGN;
  sigaction(SIGINT, &Ignore, &OldInt);
  sigaction(SIGQUIT, &Ignore, &OldQuit);
  pid_t Pid = fork();
  if (Pid == 0) {
    sigaction(SIGINT, &OldInt, nullptr);
    sigaction(SIGQUIT, &OldQuit, nullptr);
    close(Pipe[0]);
    child(Pipe[1], Out, Disabled, Program);
  }
  close(Pipe[1]);
  if (Pid < 0) {
    printError("cannot run '{}': {}", Program[0], std::strerror(errno));
    close(Pipe[0]);
    return ExitFailure;
  }
  // Until exec closes the pipe: the run directory, and after it "!errno" if exec failed.
  std::string Report;
  char Buf[4096];
  for (ssize_t N; (N = read(Pipe[0], Buf, sizeof(Buf))) != 0;)
    if (N > 0)
      Report.append(Buf, static_cast<size_t>(N));
    else if (errno != EINTR)
      break;
  close(Pipe[0]);
  std::string Dir = Report.substr(0, Report.find('\n'));
  int Status = 0;
  if (!Report.empty() && (Report[0] == '?' || Report.find("\n!") != std::string::npos)) {
    waitpid(Pid, &Status, 0);
    int Err = std::atoi(Report.c_str() + Report.find_first_of("?!") + 1);
    if (Report[0] == '?') {
      printError("cannot create a run directory in '{}': {}", Out, std::strerror(Err));
      return ExitFailure;
    }
    rmdir(Dir.c_str());
    printError("cannot run '{}': {}", Program[0], std::strerror(Err));
    return ExitUsage;
  }
  fmt::print(stderr, "scopeprof: pid {}{}, run directory {}\n", Pid,
             Disabled ? fmt::format(" (recording off: 'scopeprof ctl {} enable' starts it)", Pid)
                      : "",
             Dir);
  std::fflush(stderr);
  while (waitpid(Pid, &Status, 0) < 0 && errno == EINTR) {
  }
  // A program that was not built with scopeprof leaves the directory empty: nothing to keep.
  rmdir(Dir.c_str());
  if (WIFSIGNALED(Status))
    return 128 + WTERMSIG(Status);
  return WEXITSTATUS(Status);
}

} // namespace scopeprof::cli
