// The project root: the directory site keys and `file:` rules are relative to, and outside which
// nothing is instrumented. `scopeprof rewrite` and `scopeprof cc` choose it alike, so that a key
// does not depend on which of them made it nor on where a rules file lies (docs/rules.md).
#pragma once

#include <string>
#include <vector>

namespace scopeprof::rewrite {

/// The chosen root and the step that chose it, for messages.
struct ProjectRoot {
  std::string Dir; ///< absolute, real, no trailing slash
  std::string How; ///< e.g. "the git work tree", "CMake's top source directory"
};

/// The first that applies to \p Dir, the directory of the sources (a translation unit's, or the
/// common directory of all of them):
///   1. $SCOPEPROF_ROOT;
///   2. the top of the git work tree holding \p Dir, unless git ignores \p Dir (a copy inside
///      a build directory is a project of its own);
///   3. CMake's top source directory, read from \p CMakeBuildDir's CMakeCache.txt, if it holds
///      \p Dir;
///   4. \p Fallback.
/// An error (an unreadable $SCOPEPROF_ROOT) leaves Dir empty and How saying why.
ProjectRoot chooseProjectRoot(const std::string &Dir, const std::string &CMakeBuildDir,
                              const std::string &Fallback);

/// The nearest directory from \p Dir upwards holding a CMakeCache.txt; empty if none.
std::string findCMakeBuildDir(std::string Dir);

/// The nearest `.scopeprof` in \p Dir or a parent; empty if none.
std::string findRulesFile(std::string Dir);

std::string realPath(const std::string &Path);
bool isUnder(const std::string &Path, const std::string &Dir);
std::string commonDirectory(const std::vector<std::string> &Files);

} // namespace scopeprof::rewrite
