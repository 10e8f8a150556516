// The control channel's rendezvous and limits, shared by the runtime (which listens) and
// `scopeprof ctl` (which connects). docs/commands/ctl.md describes the protocol.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace scopeprof::control {

/// The version of the JSON-lines protocol; a request of another version gets an error reply.
constexpr int ProtocolVersion = 1;
/// A longer request is refused (a rules file is the largest legitimate one).
constexpr size_t MaxRequestBytes = 1 << 20;

/// Where this user's instrumented processes listen: $XDG_RUNTIME_DIR/scopeprof (a per-user
/// directory the system already keeps private), else /tmp/scopeprof-UID.
inline std::string socketDirectory() {
  const char *Runtime = std::getenv("XDG_RUNTIME_DIR");
  if (Runtime && Runtime[0] == '/')
    return std::string(Runtime) + "/scopeprof";
  return "/tmp/scopeprof-" + std::to_string(getuid());
}

/// Checks that \p Dir is a directory (not a symlink) of this user that nobody else may enter,
/// creating it first when \p Create. Returns why it cannot be used, or "" when it can: in a
/// shared /tmp, someone else may have made that name first.
inline std::string checkDirectory(const std::string &Dir, bool Create) {
  if (Create && mkdir(Dir.c_str(), 0700) != 0 && errno != EEXIST)
    return std::strerror(errno);
  struct stat St;
  if (lstat(Dir.c_str(), &St) != 0)
    return std::strerror(errno);
  if (!S_ISDIR(St.st_mode))
    return "not a directory";
  if (St.st_uid != getuid())
    return "owned by uid " + std::to_string(St.st_uid) + ", not by this user";
  if (St.st_mode & 077)
    return "open to other users (mode " + std::to_string((St.st_mode >> 6) & 7) +
           std::to_string((St.st_mode >> 3) & 7) + std::to_string(St.st_mode & 7) + ")";
  return "";
}

inline std::string socketPath(const std::string &Dir, pid_t Pid) {
  return Dir + "/" + std::to_string(Pid) + ".sock";
}

} // namespace scopeprof::control
