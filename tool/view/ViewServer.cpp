// The viewer's HTTP server (cpp-httplib). A browser keeps several connections open, each
// holding a worker thread while it lives, so there are a few workers; the database answers one
// request at a time (its statements are not shared between threads).
#include "ViewServer.h"

#include "Assets.h"
#include "Output.h"

#include <fmt/core.h>
#include <httplib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace scopeprof::view {
namespace {

const char *contentType(std::string_view Name) {
  if (Name.size() >= 3 && Name.substr(Name.size() - 3) == ".js")
    return "text/javascript; charset=utf-8";
  if (Name.size() >= 4 && Name.substr(Name.size() - 4) == ".css")
    return "text/css; charset=utf-8";
  return "text/html; charset=utf-8";
}

/// A request parameter as a number; std::invalid_argument (a 400 answer) when absent or bad.
int64_t number(const httplib::Request &Req, const char *Name, std::optional<int64_t> Default = {}) {
  if (!Req.has_param(Name)) {
    if (Default)
      return *Default;
    throw std::invalid_argument(fmt::format("missing parameter '{}'", Name));
  }
  std::string V = Req.get_param_value(Name);
  size_t End = 0;
  int64_t N = 0;
  try {
    N = std::stoll(V, &End);
  } catch (const std::exception &) {
    End = 0;
  }
  if (End == 0 || End != V.size())
    throw std::invalid_argument(fmt::format("parameter '{}' is not a number: '{}'", Name, V));
  return N;
}

std::vector<int64_t> numbers(const httplib::Request &Req, const char *Name) {
  std::vector<int64_t> Out;
  std::string V = Req.get_param_value(Name);
  for (size_t At = 0; At < V.size();) {
    size_t Comma = std::min(V.find(',', At), V.size());
    std::string Item = V.substr(At, Comma - At);
    if (Item.empty() || Item.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument(
          fmt::format("parameter '{}' is not a list of ids: '{}'", Name, V));
    Out.push_back(std::stoll(Item));
    At = Comma + 1;
  }
  return Out;
}

} // namespace

void serve(ViewData &Data, int64_t DefaultRun, int Port,
           const std::function<void(int)> &Listening) {
  httplib::Server Server;
  Server.new_task_queue = [] { return new httplib::ThreadPool(8); };
  std::mutex OneAtATime;

  for (const Asset &A : assets()) {
    std::string Path = std::string("/") + (std::string_view(A.Name) == "index.html" ? "" : A.Name);
    std::string_view Body = A.Data;
    const char *Type = contentType(A.Name);
    Server.Get(Path, [Body, Type](const httplib::Request &, httplib::Response &Res) {
      Res.set_content(Body.data(), Body.size(), Type);
    });
  }
  // Each API call answers JSON, or 400 with {"error": ...} for a bad request.
  auto api = [&](const char *Path, std::function<std::string(const httplib::Request &)> F) {
    Server.Get(Path, [F, &OneAtATime](const httplib::Request &Req, httplib::Response &Res) {
      std::lock_guard<std::mutex> Lock(OneAtATime);
      try {
        Res.set_content(F(Req), "application/json");
      } catch (const std::exception &E) {
        Res.status = 400;
        Res.set_content("{\"error\":" + cli::jsonString(E.what()) + "}", "application/json");
      }
    });
  };
  api("/api/runs", [&](const httplib::Request &) {
    return fmt::format("{{\"default\":{},\"runs\":{}}}", DefaultRun, Data.runsJson());
  });
  api("/api/run", [&](const auto &Req) { return Data.runJson(number(Req, "run")); });
  api("/api/slices", [&](const auto &Req) {
    SliceQuery Q;
    Q.Run = number(Req, "run");
    Q.Threads = numbers(Req, "threads");
    Q.From = number(Req, "from");
    Q.To = number(Req, "to");
    Q.Pixels = std::clamp<int64_t>(number(Req, "px", 1000), 1, 20000);
    Q.MaxDepth = static_cast<int>(std::clamp<int64_t>(number(Req, "depth", 128), 0, 10000));
    Q.Level = static_cast<int>(number(Req, "level", -1));
    return Data.slicesJson(Q);
  });
  api("/api/call", [&](const auto &Req) { return Data.callJson(number(Req, "id")); });
  api("/api/flame", [&](const auto &Req) {
    return Data.flameJson(number(Req, "run"), number(Req, "thread", 0));
  });
  api("/api/functions", [&](const auto &Req) {
    return Data.functionsJson(number(Req, "run"), number(Req, "thread", 0));
  });
  api("/api/longest",
      [&](const auto &Req) { return Data.longestJson(number(Req, "run"), numbers(Req, "sites")); });

  errno = 0;
  int Bound = Port ? (Server.bind_to_port("127.0.0.1", Port) ? Port : -1)
                   : Server.bind_to_any_port("127.0.0.1");
  if (Bound < 0) {
    int Errno = errno;
    throw db::InputError(fmt::format("cannot listen on port '{}' of 127.0.0.1: {}", Port,
                                     Errno ? std::strerror(Errno) : "refused"));
  }
  Listening(Bound);
  Server.listen_after_bind();
}

} // namespace scopeprof::view
