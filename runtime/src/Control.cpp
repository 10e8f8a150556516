// The control channel: each recording process listens on a Unix socket of its own in a
// directory only its user may enter, and answers `scopeprof ctl` — one JSON request per
// connection, one JSON reply — from a thread of its own that sleeps in accept() between
// requests, so the hot path never sees it. docs/commands/ctl.md describes the protocol.
#include "scopeprof/Control.h"
#include "Live.h"
#include "Recorder.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <set>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace scopeprof::runtime {

namespace {

using Json = nlohmann::json;
namespace ctl = scopeprof::control;

/// A client has this long to send its request and take the reply: one that stalls must not
/// keep the channel from everyone else.
constexpr int ClientTimeoutMs = 10'000;

Json reply() { return {{"version", ctl::ProtocolVersion}, {"ok", true}}; }

Json refusal(const std::string &Message) {
  return {{"version", ctl::ProtocolVersion}, {"ok", false}, {"error", Message}};
}

rules::Subject subjectOf(const scopeprof_site *S) {
  std::string_view Sig = S->signature ? S->signature : "";
  return {S->file ? S->file : "", rules::qualifiedNameOf(Sig), Sig, S->kinds};
}

/// on, sampled (throttled, one call in 64 recorded), throttled (no call recorded since the cut)
/// or off (by the rules, or recording is off). Under SitesM.
const char *stateName(const Recorder &R, const scopeprof_site *S) {
  switch (__atomic_load_n(&S->state, __ATOMIC_RELAXED) & ~uint32_t{SCOPEPROF_SITE_COUNT}) {
  case SCOPEPROF_SITE_ON:
    return "on";
  case SCOPEPROF_SITE_SAMPLED:
    return "sampled";
  case SCOPEPROF_SITE_MARKED:
    return "throttled";
  default:
    if (!R.GlobalEnabled || S->index >= R.Throttled.size() || R.Throttled[S->index] == NotCut)
      return "off";
    // Cut, and left out by the rules since: off for the rules' sake.
    return R.Rules && !R.Rules->decide(subjectOf(S)).Included ? "off" : "throttled";
  }
}

/// A glob from the command line as a rule selector: a qualified-name glob unless it names
/// its selector (`file:src/**`, `kind:ctor`).
std::string selectorOf(const std::string &Glob) {
  for (const char *Prefix : {"function:", "file:", "signature:", "kind:"})
    if (Glob.rfind(Prefix, 0) == 0)
      return Glob;
  return "function:" + Glob;
}

std::string rulesText(const Recorder &R) { return R.Rules ? R.Rules->normalized() : ""; }

/// Puts \p Text in force as the run-time rules, or says why it does not parse (nothing
/// changes then). Holds SitesM.
std::string applyRules(Recorder &R, const std::string &Text, std::string_view Origin) {
  rules::RulesError Err;
  auto Rules = rules::RuleSet::parse(Text, Origin, &Err);
  if (!Rules)
    return Err.format();
  R.Rules = std::move(Rules);
  rulesReplaced(R);
  return "";
}

/// The request's "globs": every one a string. Empty when absent.
std::optional<std::vector<std::string>> globsOf(const Json &Req, std::string &Error) {
  std::vector<std::string> Globs;
  auto It = Req.find("globs");
  if (It == Req.end())
    return Globs;
  if (!It->is_array()) {
    Error = "'globs' must be an array of strings";
    return std::nullopt;
  }
  for (const Json &G : *It) {
    if (!G.is_string() || G.get_ref<const std::string &>().empty()) {
      Error = "'globs' must be an array of non-empty strings";
      return std::nullopt;
    }
    Globs.push_back(G.get<std::string>());
  }
  return Globs;
}

/// `add` and `remove`: a rule line per glob after the rules in force (the last match wins),
/// in place of any line saying the opposite of the same selector. With no rules in force
/// everything is traced, so the first `add` starts the traced set from nothing.
std::string editTracedSet(Recorder &R, const std::vector<std::string> &Globs, bool Add) {
  std::string Text = rulesText(R);
  if (Add && Text.empty())
    Text = "exclude function:**\n";
  for (const std::string &G : Globs) {
    std::string Selector = selectorOf(G);
    std::string Opposite = (Add ? "exclude " : "include ") + Selector;
    std::string Kept;
    for (size_t Pos = 0; Pos < Text.size();) {
      size_t End = Text.find('\n', Pos);
      End = End == std::string::npos ? Text.size() : End;
      if (Text.compare(Pos, End - Pos, Opposite) != 0)
        Kept.append(Text, Pos, End - Pos).push_back('\n');
      Pos = End + 1;
    }
    Text = Kept + (Add ? "include " : "exclude ") + Selector + "\n";
  }
  return applyRules(R, Text, Add ? "<ctl add>" : "<ctl remove>");
}

Json status(Recorder &R) {
  Json Out = reply();
  Out["pid"] = R.Pid;
  Out["name"] = R.ProcessName;
  Out["exe"] = R.Exe;
  Out["run_dir"] = R.RunDir;
  Out["uptime_ns"] = monotonicNs() - R.StartMonoNs;
  {
    Lock G(R.LiveM);
    Out["calls_recorded"] = R.LiveCalls;
  }
  {
    Lock G(R.SitesM);
    uint64_t Recording = 0, Throttled = 0, Counting = 0;
    for (const scopeprof_site *S : R.SitesByIndex) {
      Counting += (__atomic_load_n(&S->state, __ATOMIC_RELAXED) & SCOPEPROF_SITE_COUNT) != 0;
      std::string_view State = stateName(R, S);
      Recording += State == "on";
      Throttled += State == "sampled" || State == "throttled";
    }
    Out["recording"] = R.GlobalEnabled;
    Out["rules"] = rulesText(R);
    Out["sites"] = {
        {"known", R.SitesByIndex.size()}, {"recording", Recording}, {"throttled", Throttled},
        {"counting_memory", Counting}};
  }
  {
    Lock G(R.M);
    uint64_t Dropped = R.DroppedUnrecorded, Threads = 0;
    for (const ThreadLog *L : R.Threads) {
      Dropped += __atomic_load_n(&L->Dropped, __ATOMIC_RELAXED);
      Threads += L->Owner != nullptr;
    }
    Out["calls_dropped"] = Dropped;
    Out["threads"] = Threads;
  }
  Out["bytes_written"] = __atomic_load_n(&R.LogBytes, __ATOMIC_RELAXED);
  return Out;
}

Json siteRow(const Recorder &R, const scopeprof_site *S) {
  return {{"function", S->signature ? S->signature : ""},
          {"file", S->file ? S->file : ""},
          {"line", S->line},
          {"state", stateName(R, S)},
          {"memory", (__atomic_load_n(&S->state, __ATOMIC_RELAXED) & SCOPEPROF_SITE_COUNT) != 0},
          {"calls", 0}};
}

/// Every site that recorded a call, with its figures so far, and what the rules ask for that
/// has not run yet (each such site, or the glob itself when nothing it names has run at all).
Json results(Recorder &R) {
  scopeprof_flush(); // what threads recorded until now, through the writer into the aggregates
  std::vector<LiveSite> Live;
  {
    Lock G(R.LiveM);
    Live = R.Live;
  }
  double NsPerTick = nsPerTick(R);
  auto Ns = [&](uint64_t Ticks) {
    return static_cast<uint64_t>(static_cast<double>(Ticks) * NsPerTick);
  };
  Json Rows = Json::array(), NoData = Json::array();
  Lock G(R.SitesM);
  auto HasCalls = [&](uint32_t Index) { return Index < Live.size() && Live[Index].Calls; };
  for (uint32_t Index = 0; Index < R.SitesByIndex.size(); ++Index) {
    if (!HasCalls(Index))
      continue;
    const LiveSite &L = Live[Index];
    double Calls = static_cast<double>(L.Calls);
    double Mean = static_cast<double>(Ns(L.TotalTicks)) / Calls;
    double Variance =
        std::max(0.0, L.SumSquaresTicks * NsPerTick * NsPerTick / Calls - Mean * Mean);
    Json Row = siteRow(R, R.SitesByIndex[Index]);
    Row["calls"] = L.Calls;
    Row["total_ns"] = Ns(L.TotalTicks);
    Row["self_ns"] = Ns(L.SelfTicks);
    Row["mean_ns"] = Mean;
    Row["stddev_ns"] = L.Calls > 1 ? Json(std::sqrt(Variance)) : Json();
    Row["p95_ns"] = Ns(std::min(livePercentileTicks(L, 0.95), L.MaxTicks));
    Row["max_ns"] = Ns(L.MaxTicks);
    Rows.push_back(std::move(Row));
  }
  if (R.Rules && R.GlobalEnabled) {
    std::set<uint32_t> Listed;
    for (const rules::Rule &Rule : R.Rules->rules()) {
      if (Rule.Act != rules::Rule::Include || Rule.Sel == rules::Rule::Trivial)
        continue;
      std::vector<uint32_t> Traced;
      bool Ran = false;
      for (uint32_t Index = 0; Index < R.SitesByIndex.size(); ++Index) {
        rules::Subject Subject = subjectOf(R.SitesByIndex[Index]);
        if (Rule.matches(Subject) && R.Rules->decide(Subject).Included) {
          Traced.push_back(Index);
          Ran |= HasCalls(Index);
        }
      }
      if (Ran)
        continue;
      for (uint32_t Index : Traced)
        if (Listed.insert(Index).second)
          NoData.push_back(siteRow(R, R.SitesByIndex[Index]));
      if (Traced.empty()) {
        std::string What = Rule.Text.substr(Rule.Text.find(' ') + 1);
        if (What.rfind("function:", 0) == 0)
          What = What.substr(9);
        NoData.push_back(
            {{"function", What}, {"file", ""}, {"line", 0}, {"state", "not seen"}, {"calls", 0}});
      }
    }
  }
  Json Out = reply();
  Out["pid"] = R.Pid;
  Out["name"] = R.ProcessName;
  Out["recording"] = R.GlobalEnabled;
  Out["sites"] = std::move(Rows);
  Out["no_data"] = std::move(NoData);
  return Out;
}

Json handle(Recorder &R, const std::string &Line) {
  Json Req = Json::parse(Line, nullptr, /*allow_exceptions=*/false);
  if (Req.is_discarded() || !Req.is_object())
    return refusal("malformed request: not a JSON object");
  auto Version = Req.find("version");
  if (Version == Req.end() || !Version->is_number_integer())
    return refusal("malformed request: no protocol 'version'");
  if (*Version != ctl::ProtocolVersion)
    return refusal("unsupported protocol version " + Version->dump() + " (this process speaks " +
                   std::to_string(ctl::ProtocolVersion) + ")");
  auto Command = Req.find("command");
  if (Command == Req.end() || !Command->is_string())
    return refusal("malformed request: no 'command'");
  const std::string &Name = Command->get_ref<const std::string &>();
  std::string Error;
  auto Globs = globsOf(Req, Error);
  if (!Globs)
    return refusal(Error);

  if (Name == "status")
    return status(R);
  if (Name == "results")
    return results(R);
  if (Name == "flush") {
    scopeprof_flush();
    return reply();
  }
  if (Name == "disable") {
    scopeprof_disable();
    return reply();
  }
  if (Name == "enable" || Name == "add" || Name == "remove") {
    if (Name != "enable" && Globs->empty())
      return refusal("'" + Name + "' needs at least one glob");
    Lock G(R.SitesM);
    if (Name == "enable") {
      if (!Globs->empty()) {
        // Exactly these functions: nothing else, whatever the rules said.
        std::string Text = "exclude function:**\n";
        for (const std::string &Glob : *Globs)
          Text += "include " + selectorOf(Glob) + "\n";
        // What the rules count stays: `enable` chooses what records, not what it measures.
        if (R.Rules)
          for (const rules::Rule &C : R.Rules->counterRules())
            Text += C.Text + "\n";
        Error = applyRules(R, Text, "<ctl enable>");
      }
      if (Error.empty()) {
        R.GlobalEnabled = true;
        reevaluateSites(R);
      }
    } else {
      Error = editTracedSet(R, *Globs, Name == "add");
    }
    return Error.empty() ? reply() : refusal(Error);
  }
  if (Name == "rules") {
    auto Text = Req.find("text");
    if (Text == Req.end() || !Text->is_string())
      return refusal("'rules' needs the rules as a string 'text'");
    auto Origin = Req.find("origin");
    std::string OriginName =
        Origin != Req.end() && Origin->is_string() ? Origin->get<std::string>() : "<ctl rules>";
    Lock G(R.SitesM);
    Error = applyRules(R, Text->get<std::string>(), OriginName);
    return Error.empty() ? reply() : refusal(Error);
  }
  return refusal("unknown command '" + Name + "'");
}

bool sendAll(int Fd, const std::string &Data) {
  for (size_t Done = 0; Done < Data.size();) {
    ssize_t N = send(Fd, Data.data() + Done, Data.size() - Done, MSG_NOSIGNAL);
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0)
      return false;
    Done += static_cast<size_t>(N);
  }
  return true;
}

/// Reads one request line from \p Fd: false when the client went away or stalled; \p TooLong
/// when it sent more than a request may hold.
bool readRequest(int Fd, std::string &Line, bool &TooLong) {
  char Buf[4096];
  for (;;) {
    pollfd P = {Fd, POLLIN, 0};
    int Ready = poll(&P, 1, ClientTimeoutMs);
    if (Ready < 0 && errno == EINTR)
      continue;
    if (Ready <= 0)
      return false;
    ssize_t N = recv(Fd, Buf, sizeof(Buf), 0);
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0)
      return !Line.empty(); // a request without its newline is still a request
    Line.append(Buf, static_cast<size_t>(N));
    size_t End = Line.find('\n');
    if (End != std::string::npos) {
      Line.resize(End);
      TooLong = End > ctl::MaxRequestBytes;
      return true;
    }
    if (Line.size() > ctl::MaxRequestBytes) {
      TooLong = true;
      return true;
    }
  }
}

void serve(Recorder &R, int Client) {
  ucred Peer{};
  socklen_t Size = sizeof(Peer);
  timeval Timeout = {ClientTimeoutMs / 1000, 0};
  setsockopt(Client, SOL_SOCKET, SO_SNDTIMEO, &Timeout, sizeof(Timeout));
  Json Out;
  if (getsockopt(Client, SOL_SOCKET, SO_PEERCRED, &Peer, &Size) != 0 || Peer.uid != getuid()) {
    Out = refusal("permission denied: process " + std::to_string(R.Pid) + " answers only uid " +
                  std::to_string(getuid()) + ", not uid " + std::to_string(Peer.uid));
  } else {
    std::string Line;
    bool TooLong = false;
    if (!readRequest(Client, Line, TooLong))
      return;
    try {
      Out = TooLong
                ? refusal("request longer than " + std::to_string(ctl::MaxRequestBytes) + " bytes")
                : handle(R, Line);
    } catch (const std::exception &E) {
      // Out of memory, most likely: the request fails, the program goes on.
      Out = refusal(std::string("cannot serve the request: ") + E.what());
    }
  }
  // Names come from the program's source: never let a stray byte make the reply invalid.
  sendAll(Client, Out.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
}

void *controlMain(void *) {
  Recorder &R = *Rec;
  int Listener = __atomic_load_n(&R.ControlFd, __ATOMIC_ACQUIRE);
  for (;;) {
    int Client = accept4(Listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (Client < 0) {
      if (errno == EBADF || errno == EINVAL)
        return nullptr; // the socket is gone: a fork child's copy closed, or exit
      if (errno != EINTR && errno != ECONNABORTED)
        poll(nullptr, 0, 100); // out of descriptors or memory: try again later, never spin
      continue;
    }
    __atomic_store_n(&R.ControlClient, Client, __ATOMIC_RELEASE);
    serve(R, Client);
    __atomic_store_n(&R.ControlClient, -1, __ATOMIC_RELEASE);
    close(Client);
  }
}

} // namespace

void startControl(Recorder &R) {
  static bool Warned = false;
  std::string Dir = ctl::socketDirectory();
  if (std::string Why = ctl::checkDirectory(Dir, true); !Why.empty()) {
    warnOnce(Warned, "no control channel: directory '" + Dir + "': " + Why);
    return;
  }
  std::string Path = ctl::socketPath(Dir, R.Pid);
  sockaddr_un Addr{};
  Addr.sun_family = AF_UNIX;
  if (Path.size() >= sizeof(Addr.sun_path)) {
    warnOnce(Warned, "no control channel: socket path '" + Path + "' is too long");
    return;
  }
  std::memcpy(Addr.sun_path, Path.c_str(), Path.size() + 1);
  int Fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (Fd < 0) {
    warnOnce(Warned, std::string("no control channel: socket: ") + std::strerror(errno));
    return;
  }
  // A socket of our pid in our own directory is stale: a process that had our pid and was
  // killed, or this process's image before an exec.
  unlink(Path.c_str());
  if (bind(Fd, reinterpret_cast<sockaddr *>(&Addr), sizeof(Addr)) != 0 ||
      chmod(Path.c_str(), 0600) != 0 || listen(Fd, 16) != 0) {
    warnOnce(Warned,
             "no control channel: cannot listen on '" + Path + "': " + std::strerror(errno));
    close(Fd);
    return;
  }
  R.ControlPath = Path;
  __atomic_store_n(&R.ControlFd, Fd, __ATOMIC_RELEASE);
  // The thread must never run a signal handler of the program's.
  sigset_t All, Old;
  sigfillset(&All);
  pthread_sigmask(SIG_SETMASK, &All, &Old);
  pthread_attr_t Attr;
  pthread_attr_init(&Attr);
  pthread_attr_setdetachstate(&Attr, PTHREAD_CREATE_DETACHED);
  pthread_t Thread;
  if (createOwnThread(&Thread, &Attr, controlMain, nullptr) != 0) {
    warnOnce(Warned, "no control channel: cannot start its thread");
    stopControl(R);
    __atomic_store_n(&R.ControlFd, -1, __ATOMIC_RELEASE);
    close(Fd);
  }
  pthread_attr_destroy(&Attr);
  pthread_sigmask(SIG_SETMASK, &Old, nullptr);
}

void restartControlInChild(Recorder &R) {
  // The parent's listener and the connection it was serving stay the parent's.
  if (int Client = __atomic_exchange_n(&R.ControlClient, -1, __ATOMIC_ACQ_REL); Client >= 0)
    close(Client);
  if (int Fd = __atomic_exchange_n(&R.ControlFd, -1, __ATOMIC_ACQ_REL); Fd >= 0)
    close(Fd);
  R.ControlPath.clear();
  startControl(R);
}

void stopControl(Recorder &R) {
  if (!R.ControlPath.empty())
    unlink(R.ControlPath.c_str());
  R.ControlPath.clear();
}

} // namespace scopeprof::runtime
