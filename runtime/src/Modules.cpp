// The executable mappings of the process (Recorder.h, MappedModule). A CPU sample records the
// address it interrupted; with the file mapped there, the loader finds the function at that
// address in the file's debug information. Read from /proc/self/maps by the writer: no loader
// lock (dl_iterate_phdr's) is taken while the recorder's locks are held.
#include "Recorder.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace scopeprof::runtime {
namespace {

/// Appends the executable file mappings not seen before and marks those no longer there gone.
/// Known ones keep their index: a file's log refers to modules by what it has described.
void rescan(Recorder &R) {
  FILE *Maps = std::fopen("/proc/self/maps", "re");
  if (!Maps)
    return;
  std::vector<bool> Present(R.Modules.size());
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
    bool Known = false;
    for (size_t I = 0; I < R.Modules.size() && !Known; ++I) {
      const MappedModule &M = R.Modules[I];
      Known = M.Start == Start && M.End == End && M.Offset == Offset && M.Path == Path;
      if (Known)
        Present[I] = true;
    }
    struct stat St;
    if (!Known && stat(Path.c_str(), &St) == 0) // else deleted or replaced: nothing to read later
      R.Modules.push_back({Start, End, Offset,
                           static_cast<uint64_t>(St.st_mtim.tv_sec) * 1'000'000'000u +
                               static_cast<uint64_t>(St.st_mtim.tv_nsec),
                           static_cast<uint64_t>(St.st_size), std::move(Path)});
  }
  std::free(Line);
  std::fclose(Maps);
  for (size_t I = 0; I < Present.size(); ++I)
    R.Modules[I].Gone = !Present[I];
}

} // namespace

bool inKnownModule(const Recorder &R, uint64_t Address) {
  for (const MappedModule &M : R.Modules)
    if (!M.Gone && M.Start <= Address && Address < M.End)
      return true;
  return false;
}

void refreshModules(Recorder &R, bool AddressUnknown, uint64_t NowNs) {
  uint64_t Since = NowNs - R.ModulesScannedNs;
  if (R.ModulesScannedNs && Since < (AddressUnknown ? ModulesRescanUnknownNs : ModulesRescanNs))
    return;
  R.ModulesScannedNs = NowNs;
  rescan(R);
}

} // namespace scopeprof::runtime
