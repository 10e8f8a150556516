// `scopeprof ctl`: steers running instrumented programs through their control sockets — which
// functions they trace, recording on or off, intermediate results — and lists them.
#include "Args.h"
#include "Commands.h"
#include "Output.h"

#include "scopeprof/Control.h"
#include "scopeprof/rules/Rules.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iostream>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace scopeprof::cli {
namespace {

using Json = nlohmann::json;
namespace ctl = scopeprof::control;

constexpr const char *Usage =
    "usage: scopeprof ctl list [--format table|csv|json]\n"
    "       scopeprof ctl PID status [--format table|json]\n"
    "       scopeprof ctl PID enable [GLOB...] | disable | add GLOB... | remove GLOB... | flush\n"
    "       scopeprof ctl PID rules FILE|-\n"
    "       scopeprof ctl PID results [--top N] [--by self|total|calls|mean|p95]\n"
    "                                 [--format table|csv|json|markdown]\n"
    "       scopeprof ctl PID          (an interactive prompt taking the same commands)\n";

constexpr const char *Help = R"(
Talks to a running instrumented program of this user through its control socket
($XDG_RUNTIME_DIR/scopeprof/PID.sock, else /tmp/scopeprof-UID/PID.sock).

  list              the instrumented processes of this user: pid, name, recording, run
                    directory (sockets of processes that are gone are removed)
  status            recording on/off, rules in force, functions known/recording/throttled,
                    calls recorded and dropped, log bytes, threads, uptime
  enable [GLOB...]  start recording; with globs, trace exactly those functions (qualified-name
                    globs of the rules language, or file:GLOB, kind:KIND, signature:GLOB)
  disable           stop recording (what was recorded is kept)
  add GLOB...       trace these functions too;  remove GLOB...: stop tracing them
  rules FILE|-      replace the run-time rules (docs/rules.md)
  results           the figures so far, with the columns and JSON keys of 'report' (times as
                    measured, no overhead compensation); functions asked for that have not
                    run yet are listed as "no data" (calls 0)
    --top N         the first N functions with data (default 20; 0: all)
    --by KEY        sort by self (default), total, calls, mean or p95
    --format F      table (default), csv, json or markdown
  flush             write what the program recorded so far to its logs

Without a command, a prompt reads commands from standard input (help, history, quit).
Exit status: 0 done, 1 the process refused or failed, 2 bad usage, no such process, or not ours.
)";

/// A failed exchange with a process, and the exit status it calls for.
struct CtlError {
  int Exit;
  std::string Message;
};

bool processExists(pid_t Pid) { return kill(Pid, 0) == 0 || errno == EPERM; }

/// Why process \p Pid has no socket we may use.
CtlError noChannel(pid_t Pid) {
  if (!processExists(Pid))
    return {ExitUsage, fmt::format("no such process: {}", Pid)};
  struct stat St;
  if (stat(fmt::format("/proc/{}", Pid).c_str(), &St) == 0 && St.st_uid != getuid())
    return {ExitUsage, fmt::format("process {} belongs to another user (uid {})", Pid, St.st_uid)};
  return {ExitUsage, fmt::format("process {} has no control channel: it is not an instrumented "
                                 "program, or it is not recording",
                                 Pid)};
}

/// Sends \p Request to process \p Pid and returns its reply; a refusal is a CtlError (exit 1).
Json exchange(pid_t Pid, Json Request) {
  std::string Dir = ctl::socketDirectory();
  if (std::string Why = ctl::checkDirectory(Dir, false); !Why.empty()) {
    if (Why == std::strerror(ENOENT)) // no process of this user ever listened
      throw noChannel(Pid);
    throw CtlError{ExitUsage, fmt::format("cannot use control directory '{}': {}", Dir, Why)};
  }
  std::string Path = ctl::socketPath(Dir, Pid);
  sockaddr_un Addr{};
  Addr.sun_family = AF_UNIX;
  if (Path.size() >= sizeof(Addr.sun_path))
    throw CtlError{ExitUsage, fmt::format("socket path '{}' is too long", Path)};
  std::memcpy(Addr.sun_path, Path.c_str(), Path.size() + 1);
  struct stat St;
  if (lstat(Path.c_str(), &St) != 0)
    throw noChannel(Pid);
  int Fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (Fd < 0)
    throw CtlError{ExitFailure, fmt::format("socket: {}", std::strerror(errno))};
  if (connect(Fd, reinterpret_cast<sockaddr *>(&Addr), sizeof(Addr)) != 0) {
    int Err = errno;
    close(Fd);
    if (Err == ECONNREFUSED) {
      // Nobody listens: the process died without removing it, or exec'd a program that is
      // not instrumented.
      unlink(Path.c_str());
      if (!processExists(Pid))
        throw CtlError{
            ExitUsage,
            fmt::format("no such process: {} (its stale socket '{}' was removed)", Pid, Path)};
      throw CtlError{ExitUsage, fmt::format("process {} no longer listens (its stale socket '{}' "
                                            "was removed)",
                                            Pid, Path)};
    }
    throw CtlError{ExitUsage, fmt::format("cannot connect to '{}': {}", Path, std::strerror(Err))};
  }
  Request["version"] = ctl::ProtocolVersion;
  std::string Line = Request.dump() + "\n";
  for (size_t Done = 0; Done < Line.size();) {
    ssize_t N = send(Fd, Line.data() + Done, Line.size() - Done, MSG_NOSIGNAL);
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0) {
      close(Fd);
      throw CtlError{ExitFailure,
                     fmt::format("cannot send to process {}: {}", Pid, std::strerror(errno))};
    }
    Done += static_cast<size_t>(N);
  }
  // A process stopped (SIGSTOP, a debugger) cannot answer: say so rather than hang.
  constexpr int ReplyTimeoutMs = 60'000;
  std::string Reply;
  char Buf[65536];
  for (;;) {
    pollfd P = {Fd, POLLIN, 0};
    int Ready = poll(&P, 1, ReplyTimeoutMs);
    if (Ready < 0 && errno == EINTR)
      continue;
    if (Ready == 0) {
      close(Fd);
      throw CtlError{ExitFailure, fmt::format("process {} did not answer within {} s", Pid,
                                              ReplyTimeoutMs / 1000)};
    }
    ssize_t N = recv(Fd, Buf, sizeof(Buf), 0);
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0)
      break;
    Reply.append(Buf, static_cast<size_t>(N));
  }
  close(Fd);
  Json Out = Json::parse(Reply, nullptr, false);
  if (Out.is_discarded() || !Out.is_object() || !Out.contains("ok"))
    throw CtlError{ExitFailure, fmt::format("process {} sent no valid reply (did it exit?)", Pid)};
  if (!Out["ok"].get<bool>())
    throw CtlError{ExitFailure, fmt::format("process {} refused: {}", Pid,
                                            Out.value("error", std::string("no reason given")))};
  return Out;
}

std::string str(const Json &J, const char *Key) {
  auto It = J.find(Key);
  return It != J.end() && It->is_string() ? It->get<std::string>() : "";
}

uint64_t num(const Json &J, const char *Key) {
  auto It = J.find(Key);
  return It != J.end() && It->is_number_unsigned() ? It->get<uint64_t>() : 0;
}

/// "process 4242 (server): recording on; traced: 3 of the 120 functions seen so far (rules: …)".
void printState(pid_t Pid, const Json &Status) {
  std::string Rules;
  for (char C : str(Status, "rules"))
    Rules += C == '\n' ? std::string("; ") : std::string(1, C);
  if (Rules.size() >= 2)
    Rules.resize(Rules.size() - 2); // the last line's
  const Json &Sites = Status["sites"];
  fmt::print("process {} ({}): recording {}; traced: {} of the {} functions seen so far{}\n", Pid,
             printable(str(Status, "name")), Status.value("recording", false) ? "on" : "off",
             num(Sites, "recording") + num(Sites, "throttled"), num(Sites, "known"),
             Rules.empty() ? "" : fmt::format(" (rules: {})", printable(Rules)));
}

int printStatus(pid_t Pid, const Json &S, Format F) {
  if (F == Format::Json) {
    fmt::print("{}\n", S.dump(2, ' ', false, Json::error_handler_t::replace));
    return ExitOk;
  }
  const Json &Sites = S["sites"];
  std::string Rules = str(S, "rules");
  std::string Indented;
  for (size_t Pos = 0; Pos < Rules.size();) {
    size_t End = Rules.find('\n', Pos);
    End = End == std::string::npos ? Rules.size() : End;
    Indented += (Indented.empty() ? "" : "\n              ") + Rules.substr(Pos, End - Pos);
    Pos = End + 1;
  }
  fmt::print("process     {} ({})\n", Pid, printable(str(S, "name")));
  fmt::print("recording   {}\n", S.value("recording", false) ? "on" : "off");
  fmt::print("rules       {}\n", Indented.empty() ? "(none: every function)" : printable(Indented));
  fmt::print("functions   {} known, {} recording, {} throttled\n", num(Sites, "known"),
             num(Sites, "recording"), num(Sites, "throttled"));
  fmt::print("calls       {} recorded, {} dropped\n", num(S, "calls_recorded"),
             num(S, "calls_dropped"));
  fmt::print("log bytes   {}\n", num(S, "bytes_written"));
  fmt::print("threads     {}\n", num(S, "threads"));
  fmt::print("uptime      {}\n", formatDuration(static_cast<double>(num(S, "uptime_ns"))));
  fmt::print("run         {}\n", printable(str(S, "run_dir")));
  return ExitOk;
}

int printResults(const Json &R, const std::string &By, size_t Top, Format F) {
  std::vector<Json> Sites(R["sites"].begin(), R["sites"].end());
  auto Key = [&](const Json &S) -> double {
    if (By == "total")
      return S["total_ns"].get<double>();
    if (By == "calls")
      return S["calls"].get<double>();
    if (By == "mean")
      return S["mean_ns"].get<double>();
    if (By == "p95")
      return S["p95_ns"].get<double>();
    return S["self_ns"].get<double>();
  };
  std::stable_sort(Sites.begin(), Sites.end(),
                   [&](const Json &A, const Json &B) { return Key(A) > Key(B); });
  double AllSelf = 0;
  for (const Json &S : Sites)
    AllSelf += S["self_ns"].get<double>();
  if (Top && Sites.size() > Top)
    Sites.resize(Top);

  Table T = functionTable();
  auto Duration = [](const Json &V) {
    if (!V.is_number())
      return Cell::null();
    double Ns = V.get<double>();
    return Cell::integer(static_cast<int64_t>(Ns), formatDuration(Ns));
  };
  auto Location = [](const Json &S) {
    std::string File = str(S, "file");
    return Cell::text(File.empty() ? "" : fmt::format("{}:{}", File, num(S, "line")));
  };
  for (const Json &S : Sites) {
    double Share = AllSelf > 0 ? 100.0 * S["self_ns"].get<double>() / AllSelf : 0;
    std::string State = str(S, "state");
    std::string Note = State == "sampled"     ? "throttled, then sampled"
                       : State == "throttled" ? "throttled, not counted since"
                       : State == "off"       ? "not recording now"
                                              : "";
    T.Rows.push_back(
        {Cell::text(str(S, "function")), Cell::integer(static_cast<int64_t>(num(S, "calls"))),
         Duration(S["total_ns"]), Duration(S["self_ns"]),
         Cell::real(S["mean_ns"].get<double>(), formatDuration(S["mean_ns"].get<double>())),
         S["stddev_ns"].is_number() ? Cell::real(S["stddev_ns"].get<double>(),
                                                 formatDuration(S["stddev_ns"].get<double>()))
                                    : Cell::null(),
         Duration(S["p95_ns"]), Duration(S["max_ns"]),
         Cell::real(Share, fmt::format("{:.1f}", Share)), Location(S),
         Note.empty() ? Cell::null() : Cell::text(Note)});
  }
  // Asked for and not run yet: never left out, whatever --top says.
  for (const Json &S : R["no_data"]) {
    Cell Calls = Cell::integer(0, "no data");
    T.Rows.push_back(
        {Cell::text(str(S, "function")), Calls, Cell::null(), Cell::null(), Cell::null(),
         Cell::null(), Cell::null(), Cell::null(), Cell::null(), Location(S),
         Cell::text(str(S, "state") == "not seen" ? "no data: not run yet" : "no data")});
  }
  if (F == Format::Table)
    fmt::print("process {} ({}): recording {}; times as measured, since the process started\n\n",
               num(R, "pid"), printable(str(R, "name")),
               R.value("recording", false) ? "on" : "off");
  if (F == Format::Table && T.Rows.empty()) {
    fmt::print("no calls recorded yet\n");
    return ExitOk;
  }
  printTable(T, F);
  return ExitOk;
}

int list(Format F) {
  Table T;
  T.Columns = {"pid", "name", "recording", "run directory"};
  T.Keys = {"pid", "name", "recording", "run_dir"};
  T.RightAligned = {true, false, false, false};
  T.Shrinkable = {1, 3};
  std::string Dir = ctl::socketDirectory();
  std::vector<pid_t> Pids;
  if (DIR *D = opendir(Dir.c_str())) {
    while (dirent *E = readdir(D)) {
      std::string Name = E->d_name;
      if (Name.size() > 5 && Name.compare(Name.size() - 5, 5, ".sock") == 0)
        if (auto Pid = parseCount(Name.substr(0, Name.size() - 5)))
          Pids.push_back(static_cast<pid_t>(*Pid));
    }
    closedir(D);
  }
  std::sort(Pids.begin(), Pids.end());
  for (pid_t Pid : Pids) {
    if (!processExists(Pid)) {
      unlink(ctl::socketPath(Dir, Pid).c_str()); // stale: the process died without removing it
      continue;
    }
    try {
      Json S = exchange(Pid, {{"command", "status"}});
      T.Rows.push_back({Cell::integer(Pid), Cell::text(str(S, "name")),
                        Cell::text(S.value("recording", false) ? "on" : "off"),
                        Cell::text(str(S, "run_dir"))});
    } catch (const CtlError &E) {
      // Gone between the listing and the question, or no longer listening: nothing to show.
    }
  }
  if (F == Format::Table && T.Rows.empty()) {
    fmt::print("no instrumented process of this user is running\n");
    return ExitOk;
  }
  printTable(T, F);
  return ExitOk;
}

/// Whether \p Interactive: standard input is the prompt's, `rules -` cannot read it.
int runCommand(pid_t Pid, const std::vector<std::string> &Argv, bool Interactive) {
  int Exit;
  auto Args =
      parseCommand(Argv, {{"--top", true}, {"--by", true}, {"--format", true}}, Usage, Help, Exit);
  if (!Args)
    return Exit;
  if (Args->Positional.empty())
    return usageError("no command given", Usage);
  const std::string &Cmd = Args->Positional[0];
  std::vector<std::string> Globs(Args->Positional.begin() + 1, Args->Positional.end());
  if (Cmd != "results" && Cmd != "status" && Args->has("--format"))
    return usageError(fmt::format("'{}' takes no --format", Cmd), Usage);
  if (Cmd != "results" && (Args->has("--top") || Args->has("--by")))
    return usageError(fmt::format("'{}' takes no --top or --by", Cmd), Usage);
  auto F = parseFormat(Args->value("--format").value_or("table"));
  if (!F || (Cmd == "status" && *F != Format::Table && *F != Format::Json))
    return usageError(fmt::format("unknown format '{}'", *Args->value("--format")), Usage);
  if ((Cmd == "status" || Cmd == "disable" || Cmd == "flush" || Cmd == "results") && !Globs.empty())
    return usageError(fmt::format("'{}' takes no arguments, not '{}'", Cmd, Globs[0]), Usage);
  if ((Cmd == "add" || Cmd == "remove") && Globs.empty())
    return usageError(fmt::format("'{}' needs at least one GLOB", Cmd), Usage);
  try {
    if (Cmd == "status")
      return printStatus(Pid, exchange(Pid, {{"command", "status"}}), *F);
    if (Cmd == "results") {
      std::string By = Args->value("--by").value_or("self");
      static const std::vector<std::string> Keys = {"self", "total", "calls", "mean", "p95"};
      if (std::find(Keys.begin(), Keys.end(), By) == Keys.end())
        return usageError(fmt::format("unknown sort key '{}' (expected self, total, calls, mean or "
                                      "p95; CPU times need 'scopeprof report')",
                                      By),
                          Usage);
      auto Top = parseCount(Args->value("--top").value_or("20"));
      if (!Top)
        return usageError(fmt::format("--top needs a number, not '{}'", *Args->value("--top")),
                          Usage);
      return printResults(exchange(Pid, {{"command", "results"}}), By, static_cast<size_t>(*Top),
                          *F);
    }
    Json Request = {{"command", Cmd}};
    if (Cmd == "enable" || Cmd == "add" || Cmd == "remove") {
      Request["globs"] = Globs;
    } else if (Cmd == "rules") {
      if (Globs.size() != 1)
        return usageError("'rules' needs one FILE, or '-' for standard input", Usage);
      std::string Name = Globs[0], Text;
      if (Name == "-") {
        if (Interactive)
          return usageError("'rules -' would read the prompt's input: give a file", Usage);
        std::ostringstream In;
        In << std::cin.rdbuf();
        Text = In.str();
        Name = "<stdin>";
      } else {
        std::ifstream In(Name, std::ios::binary);
        if (!In) {
          printError("cannot read rules file '{}': {}", Name, std::strerror(errno));
          return ExitUsage;
        }
        std::ostringstream Buf;
        Buf << In.rdbuf();
        Text = Buf.str();
      }
      rules::RulesError Err;
      if (!rules::RuleSet::parse(Text, Name, &Err)) {
        fmt::print(stderr, "scopeprof: {}\n", Err.format());
        return ExitFailure;
      }
      Request["text"] = Text;
      Request["origin"] = Name;
    } else if (Cmd != "disable" && Cmd != "flush") {
      return usageError(fmt::format("unknown ctl command '{}'", Cmd), Usage);
    }
    exchange(Pid, Request);
    printState(Pid, exchange(Pid, {{"command", "status"}}));
    return ExitOk;
  } catch (const CtlError &E) {
    printError("{}", E.Message);
    return E.Exit;
  }
}

/// Splits a prompt line into words: blanks separate, quotes ('…' or "…") group.
std::optional<std::vector<std::string>> splitWords(const std::string &Line) {
  std::vector<std::string> Words;
  std::string Word;
  bool InWord = false;
  char Quote = 0;
  for (char C : Line) {
    if (Quote) {
      if (C == Quote)
        Quote = 0;
      else
        Word += C;
    } else if (C == '\'' || C == '"') {
      Quote = C;
      InWord = true;
    } else if (C == ' ' || C == '\t') {
      if (InWord)
        Words.push_back(Word);
      Word.clear();
      InWord = false;
    } else {
      Word += C;
      InWord = true;
    }
  }
  if (Quote)
    return std::nullopt;
  if (InWord)
    Words.push_back(Word);
  return Words;
}

constexpr const char *PromptHelp =
    "commands: status | enable [GLOB...] | disable | add GLOB... | remove GLOB... | rules FILE\n"
    "          results [--top N] [--by KEY] [--format F] | flush | help | history | quit\n";

/// The interactive prompt: the same commands, one per line, until quit or end of input.
int prompt(pid_t Pid) {
  try {
    exchange(Pid, {{"command", "status"}}); // no such process: say so now, not at the first command
  } catch (const CtlError &E) {
    printError("{}", E.Message);
    return E.Exit;
  }
  bool Tty = isatty(STDIN_FILENO);
  if (Tty)
    fmt::print("scopeprof ctl: process {}; 'help' lists the commands, 'quit' ends\n", Pid);
  std::vector<std::string> History;
  for (;;) {
    if (Tty) {
      fmt::print("ctl {}> ", Pid);
      std::fflush(stdout);
    }
    std::string Line;
    if (!std::getline(std::cin, Line))
      break;
    auto Words = splitWords(Line);
    if (!Words) {
      printError("unterminated quote in '{}'", Line);
      continue;
    }
    if (Words->empty())
      continue;
    const std::string &Cmd = (*Words)[0];
    if (Cmd == "quit" || Cmd == "exit")
      break;
    History.push_back(Line);
    if (Cmd == "help") {
      fmt::print("{}", PromptHelp);
    } else if (Cmd == "history") {
      for (size_t I = 0; I < History.size(); ++I)
        fmt::print("{:>4}  {}\n", I + 1, History[I]);
    } else if (runCommand(Pid, *Words, true) == ExitUsage && !processExists(Pid)) {
      return ExitUsage; // the process is gone: nothing more to ask it
    }
    std::fflush(stdout);
  }
  return ExitOk;
}

} // namespace

int runCtl(const std::vector<std::string> &Argv) {
  if (Argv.empty())
    return usageError("'ctl' needs 'list' or a process id", Usage);
  const std::string &First = Argv[0];
  if (First == "--help" || First == "-h") {
    fmt::print("{}{}", Usage, Help);
    return ExitOk;
  }
  if (First == "list") {
    int Exit;
    auto Args =
        parseCommand({Argv.begin() + 1, Argv.end()}, {{"--format", true}}, Usage, Help, Exit);
    if (!Args)
      return Exit;
    if (!Args->Positional.empty())
      return usageError(fmt::format("'list' takes no arguments, not '{}'", Args->Positional[0]),
                        Usage);
    auto F = parseFormat(Args->value("--format").value_or("table"));
    if (!F)
      return usageError(fmt::format("unknown format '{}'", *Args->value("--format")), Usage);
    return list(*F);
  }
  auto Pid = parseCount(First);
  if (!Pid || *Pid == 0 || *Pid > INT32_MAX)
    return usageError(fmt::format("'{}' is not a process id (or 'list')", First), Usage);
  if (Argv.size() == 1)
    return prompt(static_cast<pid_t>(*Pid));
  return runCommand(static_cast<pid_t>(*Pid), {Argv.begin() + 1, Argv.end()}, false);
}

} // namespace scopeprof::cli
