// Choosing the project root (see ProjectRoot.h and docs/rules.md).
#include "ProjectRoot.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>
#include <optional>

namespace scopeprof::rewrite {

std::string realPath(const std::string &Path) {
  llvm::SmallString<256> Out;
  if (llvm::sys::fs::real_path(Path, Out))
    return "";
  return std::string(Out);
}

bool isUnder(const std::string &Path, const std::string &Dir) {
  if (Dir == "/")
    return Path.size() > 1 && Path[0] == '/';
  return Path.size() > Dir.size() && Path.compare(0, Dir.size(), Dir) == 0 && Path[Dir.size()] == '/';
}

std::string commonDirectory(const std::vector<std::string> &Files) {
  std::string Common = llvm::sys::path::parent_path(Files.front()).str();
  for (const auto &F : Files)
    while (!Common.empty() && Common != "/" && !isUnder(F, Common))
      Common = llvm::sys::path::parent_path(Common).str();
  return Common;
}

namespace {

/// The nearest directory from \p Dir upwards that holds \p Name; empty if none.
std::string findUpwards(std::string Dir, llvm::StringRef Name) {
  for (; !Dir.empty(); Dir = llvm::sys::path::parent_path(Dir).str()) {
    if (llvm::sys::fs::exists(Dir + "/" + Name.str()))
      return Dir;
    if (Dir == "/")
      break;
  }
  return "";
}

/// The top of the git work tree holding \p Dir, unless git ignores \p Dir. Asking git itself
/// (not parsing .gitignore here) keeps its rules, global excludes included, exactly.
std::string gitTop(const std::string &Dir) {
  std::string Top = findUpwards(Dir, ".git");
  if (Top.empty())
    return "";
  llvm::ErrorOr<std::string> Git = llvm::sys::findProgramByName("git");
  if (!Git)
    return Top; // no git to ask: the marker is all we know
  std::optional<llvm::StringRef> Quiet[] = {std::nullopt, llvm::StringRef(""), llvm::StringRef("")};
  int Ignored = llvm::sys::ExecuteAndWait(*Git, {"git", "-C", Dir, "check-ignore", "-q", Dir},
                                          std::nullopt, Quiet);
  return Ignored == 0 ? "" : Top;
}

/// CMAKE_HOME_DIRECTORY from \p BuildDir's CMakeCache.txt: the project's top CMakeLists.txt.
std::string cmakeTopSourceDir(const std::string &BuildDir) {
  auto Cache = llvm::MemoryBuffer::getFile(BuildDir + "/CMakeCache.txt");
  if (!Cache)
    return "";
  llvm::SmallVector<llvm::StringRef, 0> Lines;
  (*Cache)->getBuffer().split(Lines, '\n');
  for (llvm::StringRef Line : Lines)
    if (Line.consume_front("CMAKE_HOME_DIRECTORY:INTERNAL="))
      return realPath(Line.rtrim("\r").str());
  return "";
}

} // namespace

std::string findCMakeBuildDir(std::string Dir) { return findUpwards(std::move(Dir), "CMakeCache.txt"); }

std::string findRulesFile(std::string Dir) {
  std::string Found = findUpwards(std::move(Dir), ".scopeprof");
  if (Found.empty() || !llvm::sys::fs::is_regular_file(Found + "/.scopeprof"))
    return "";
  return (Found == "/" ? "" : Found) + "/.scopeprof";
}

ProjectRoot chooseProjectRoot(const std::string &Dir, const std::string &CMakeBuildDir,
                              const std::string &Fallback) {
  if (const char *Env = std::getenv("SCOPEPROF_ROOT"); Env && *Env) {
    std::string Real = realPath(Env);
    if (Real.empty() || !llvm::sys::fs::is_directory(Real))
      return {"", "cannot read SCOPEPROF_ROOT '" + std::string(Env) + "': not a directory"};
    return {Real, "SCOPEPROF_ROOT"};
  }
  if (std::string Top = gitTop(Dir); !Top.empty())
    return {realPath(Top), "the git work tree"};
  if (!CMakeBuildDir.empty())
    if (std::string Top = cmakeTopSourceDir(CMakeBuildDir);
        !Top.empty() && (Dir == Top || isUnder(Dir, Top)))
      return {Top, "CMake's top source directory"};
  return {Fallback, "the sources' common directory"};
}

} // namespace scopeprof::rewrite
