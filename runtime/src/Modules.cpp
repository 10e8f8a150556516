// The executable mappings of the process (Recorder.h, MappedModule). A CPU sample records the
// address it interrupted; with the file mapped there, the loader finds the function at that
// address in the file's debug information. Read from /proc/self/maps by the writer: no loader
// lock (dl_iterate_phdr's) is taken while the recorder's locks are held.
#include "Recorder.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

namespace scopeprof::runtime {
namespace {

/// Appends the executable file mappings not seen before. Known ones keep their index: a file's
/// log refers to modules by what it has described.
void rescan(Recorder &R) {
  FILE *Maps = std::fopen("/proc/self/maps", "re");
  if (!Maps)
    return;
  char *Line = nullptr;
  size_t Capacity = 0;
  while (getline(&Line, &Capacity, Maps) > 0) {
    uint64_t Start, End, Offset;
    char Perms[5];
    int PathAt = 0;
    if (std::sscanf(Line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %*s %*s %n", &Start, &End,
                    Perms, &Offset, &PathAt) < 4 ||
        Perms[2] != 'x' || Line[PathAt] != '/')
      continue; // not executable, or anonymous, [vdso] ...
    std::string Path(Line + PathAt);
    while (!Path.empty() && Path.back() == '\n')
      Path.pop_back();
    struct stat St;
    if (stat(Path.c_str(), &St) != 0)
      continue; // deleted or replaced since: nothing to read it from later
    bool Known = false;
    for (const MappedModule &M : R.Modules)
      Known = Known || (M.Start == Start && M.End == End && M.Offset == Offset && M.Path == Path);
    if (!Known)
      R.Modules.push_back({Start, End, Offset,
                           static_cast<uint64_t>(St.st_mtim.tv_sec) * 1'000'000'000u +
                               static_cast<uint64_t>(St.st_mtim.tv_nsec),
                           static_cast<uint64_t>(St.st_size), std::move(Path)});
  }
  std::free(Line);
  std::fclose(Maps);
}

int find(const Recorder &R, uint64_t Address) {
  // The newest first: a library unloaded and another mapped at its place.
  for (size_t I = R.Modules.size(); I-- > 0;)
    if (R.Modules[I].Start <= Address && Address < R.Modules[I].End)
      return static_cast<int>(I);
  return -1;
}

} // namespace

int moduleAt(Recorder &R, uint64_t Address, bool &MayRescan) {
  int Index = find(R, Address);
  if (Index < 0 && MayRescan && Address) {
    MayRescan = false;
    rescan(R);
    Index = find(R, Address);
  }
  return Index;
}

} // namespace scopeprof::runtime
