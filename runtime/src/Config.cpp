// Parsing of SCOPEPROF_* environment variables; bad values warn and fall back to defaults.
#include "Config.h"

#include "scopeprof/LogFormat.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <strings.h>

namespace scopeprof::runtime {
namespace {

void warn(const char *Var, const char *Value, const char *Expected, const std::string &Default) {
  std::fprintf(stderr, "scopeprof: warning: %s='%s' is not %s; using %s\n", Var, Value, Expected,
               Default.c_str());
}

bool parseBool(const char *T, bool &Out) {
  for (const char *Yes : {"1", "true", "yes", "on"})
    if (strcasecmp(T, Yes) == 0)
      return Out = true, true;
  for (const char *No : {"0", "false", "no", "off"})
    if (strcasecmp(T, No) == 0)
      return Out = false, true;
  return false;
}

/// Parses a decimal number followed by an optional unit from \p Units.
bool parseScaled(const char *Text, double &Out, std::initializer_list<std::pair<const char *, double>> Units) {
  char *End = nullptr;
  double V = std::strtod(Text, &End);
  if (End == Text || V < 0 || V != V)
    return false;
  if (*End == '\0') {
    Out = V;
    return true;
  }
  for (const auto &U : Units)
    if (std::strcmp(End, U.first) == 0) {
      Out = V * U.second;
      return true;
    }
  return false;
}

/// SCOPEPROF_COUNTERS: a comma-separated list of what to measure besides wall time; `none`
/// measures nothing more. Unknown names are reported and skipped; a list of only unknown
/// names keeps the default.
void parseCounters(const char *Value, Config &C) {
  static const char *const Known = "a list of counters from: cpu, memory (or none)";
  bool Cpu = false, Memory = false, AnyKnown = false, AnyUnknown = false;
  std::string List = Value;
  for (size_t Begin = 0; Begin <= List.size();) {
    size_t End = std::min(List.find(',', Begin), List.size());
    std::string Name = List.substr(Begin, End - Begin);
    Name.erase(0, Name.find_first_not_of(" \t"));
    Name.erase(Name.find_last_not_of(" \t") + 1);
    if (Name.empty())
      ; // "cpu," or ",,": nothing named
    else if (Name == "cpu")
      Cpu = AnyKnown = true;
    else if (Name == "memory")
      Memory = AnyKnown = true;
    else if (Name == "none")
      AnyKnown = true;
    else
      AnyUnknown = true;
    Begin = End + 1;
  }
  if (AnyKnown) {
    C.CountCpu = Cpu;
    C.CountMemory = Memory;
  }
  if (AnyUnknown)
    warn("SCOPEPROF_COUNTERS", Value, Known,
         C.CountCpu ? (C.CountMemory ? "cpu,memory" : "cpu") : (C.CountMemory ? "memory" : "none"));
}

} // namespace

bool parseDuration(const char *Text, uint64_t &Ns) {
  double V;
  if (!parseScaled(Text, V, {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}}) || V > 1e18)
    return false;
  Ns = static_cast<uint64_t>(V);
  return true;
}

bool parseSize(const char *Text, size_t &Bytes) {
  double V;
  if (!parseScaled(Text, V, {{"K", 1024.0}, {"k", 1024.0}, {"M", 1048576.0}, {"G", 1073741824.0}}) ||
      V > 1e12)
    return false;
  Bytes = static_cast<size_t>(V);
  return true;
}

Config readConfig() {
  Config C;
  if (const char *V = std::getenv("SCOPEPROF_OUT"); V && *V)
    C.OutDir = V;
  if (const char *V = std::getenv("SCOPEPROF_RUN_DIR"); V && *V)
    C.RunDir = V;
  if (const char *V = std::getenv("SCOPEPROF_ENABLE"); V && *V && !parseBool(V, C.Enabled))
    warn("SCOPEPROF_ENABLE", V, "a boolean (1/0, true/false, yes/no, on/off)", "1");
  if (const char *V = std::getenv("SCOPEPROF_RULES"); V && *V)
    C.RulesFile = V;
  if (const char *V = std::getenv("SCOPEPROF_MIN_DURATION"); V && *V && !parseDuration(V, C.MinDurationNs))
    warn("SCOPEPROF_MIN_DURATION", V, "a duration (e.g. 500ns, 2us, 1ms)", "0");
  if (const char *V = std::getenv("SCOPEPROF_MAX_DEPTH"); V && *V) {
    char *End = nullptr;
    unsigned long D = std::strtoul(V, &End, 10);
    if (*End != '\0' || End == V || D > 65535)
      warn("SCOPEPROF_MAX_DEPTH", V, "a depth from 0 (unlimited) to 65535", "0");
    else
      C.MaxDepth = static_cast<uint32_t>(D);
  }
  if (const char *V = std::getenv("SCOPEPROF_BUFFER_SIZE"); V && *V) {
    size_t B = 0;
    // A buffer is written as one frame, and a reader takes frames up to MaxFramePayload.
    if (!parseSize(V, B) || B < 4096 || B > format::MaxFramePayload / 2)
      warn("SCOPEPROF_BUFFER_SIZE", V, "a size from 4K to 32M", std::to_string(C.BufferBytes));
    else
      C.BufferBytes = B;
  }
  if (const char *V = std::getenv("SCOPEPROF_MAX_LOG_SIZE"); V && *V) {
    size_t B = 0;
    if (!parseSize(V, B))
      warn("SCOPEPROF_MAX_LOG_SIZE", V, "a size like 500M or 4G (0: no limit)", "2G");
    else
      C.MaxLogBytes = B;
  }
  if (const char *V = std::getenv("SCOPEPROF_THROTTLE"); V && *V) {
    // CALLS, CALLS:DURATION or CALLS:DURATION:THEN.
    uint64_t Ns = C.ThrottleNs;
    Config::ThrottleThen Then = Config::ThenAuto;
    std::string_view Rest = V;
    char *End = nullptr;
    uint64_t Calls = std::strtoull(V, &End, 10);
    bool Ok = End != V;
    Rest.remove_prefix(static_cast<size_t>(End - V));
    if (Ok && !Rest.empty()) {
      std::string_view Duration = Rest.substr(1, Rest.find(':', 1) - 1);
      std::string_view After = Rest.substr(std::min(Rest.size(), Duration.size() + 1));
      Ok = Rest[0] == ':' && parseDuration(std::string(Duration).c_str(), Ns);
      if (After == ":off")
        Then = Config::ThenOff;
      else if (After == ":sampled")
        Then = Config::ThenSampled;
      else
        Ok = Ok && After.empty();
    }
    if (Ok || std::strcmp(V, "off") == 0) {
      C.ThrottleCalls = Ok ? Calls : 0;
      C.ThrottleNs = Ns;
      C.Then = Then;
    } else {
      warn("SCOPEPROF_THROTTLE", V, "CALLS:DURATION[:off|:sampled] (e.g. 10000:1us), 0 or off",
           "10000:10us");
    }
  }
  if (const char *V = std::getenv("SCOPEPROF_ON_FULL"); V && *V) {
    if (std::strcmp(V, "wait") == 0 || std::strcmp(V, "drop") == 0)
      C.DropWhenFull = std::strcmp(V, "drop") == 0;
    else
      warn("SCOPEPROF_ON_FULL", V, "'wait' or 'drop'", "wait");
  }
  if (const char *V = std::getenv("SCOPEPROF_RECORD_CMDLINE"); V && *V && !parseBool(V, C.RecordCmdline))
    warn("SCOPEPROF_RECORD_CMDLINE", V, "a boolean", "1");
  if (const char *V = std::getenv("SCOPEPROF_VERBOSE"); V && *V && !parseBool(V, C.Verbose))
    warn("SCOPEPROF_VERBOSE", V, "a boolean", "0");
  if (const char *V = std::getenv("SCOPEPROF_CLOCK"); V && *V) {
    if (std::strcmp(V, "tsc") == 0)
      C.Clock = Config::ClockTsc;
    else if (std::strcmp(V, "monotonic") == 0)
      C.Clock = Config::ClockMonotonic;
    else if (std::strcmp(V, "auto") != 0)
      warn("SCOPEPROF_CLOCK", V, "'auto', 'tsc' or 'monotonic'", "auto");
  }
  if (const char *V = std::getenv("SCOPEPROF_CPU_SAMPLES"); V && *V) {
    uint64_t Ns = 0;
    // Below 100 us the signals would cost more than the calls they attribute.
    if (std::strcmp(V, "off") == 0 || (parseDuration(V, Ns) && (Ns == 0 || Ns >= 100'000)))
      C.CpuSampleNs = Ns;
    else
      warn("SCOPEPROF_CPU_SAMPLES", V, "a period of CPU time of at least 100us (e.g. 1ms) or 0",
           "1ms");
  }
  if (const char *V = std::getenv("SCOPEPROF_COUNTERS"); V && *V)
    parseCounters(V, C);
  return C;
}

} // namespace scopeprof::runtime
