// The run directory a process records into, made the same way by the runtime (at start-up)
// and by `scopeprof run` (for the program it starts): OUT/run-YYYYMMDD-HHMMSS-PID.
#pragma once

#include <cerrno>
#include <ctime>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace scopeprof {

/// Creates OUT (and its parents) and a new, owner-only run directory in it. Created, never
/// reused: an existing name (another run in the same second with the same pid, or a directory
/// or symlink planted there) gets the next suffix. Returns its absolute path, or "" with errno
/// set.
inline std::string createRunDirectory(const std::string &Out, pid_t Pid) {
  for (size_t I = 1; I <= Out.size(); ++I)
    if (I == Out.size() || Out[I] == '/')
      mkdir(Out.substr(0, I).c_str(), 0755);
  char Stamp[32];
  time_t Now = time(nullptr);
  tm Tm;
  gmtime_r(&Now, &Tm);
  strftime(Stamp, sizeof(Stamp), "%Y%m%d-%H%M%S", &Tm);
  std::string Base = Out + "/run-" + Stamp + "-" + std::to_string(Pid), Dir = Base;
  for (int Attempt = 2; mkdir(Dir.c_str(), 0700) != 0; ++Attempt) {
    if (errno != EEXIST || Attempt > 1000)
      return "";
    Dir = Base + "-" + std::to_string(Attempt);
  }
  char Cwd[4096];
  if (Dir[0] != '/' && getcwd(Cwd, sizeof(Cwd)))
    Dir = std::string(Cwd) + "/" + Dir;
  return Dir;
}

} // namespace scopeprof
