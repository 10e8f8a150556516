// Finds the function definitions of a translation unit and decides, for each, where its
// profiling scope goes or why it gets none.
#pragma once

#include "Triviality.h"
#include "scopeprof/rules/Rules.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace scopeprof::rewrite {

/// Why a function gets no scope. Values index skipReasonName().
enum class Skip {
  None,
  ExcludedByRule,
  Constexpr,
  Coroutine,
  BodyInMacro,
  GeneratedByMacro,
  DefaultedOrDeleted,
  Implicit,
  Naked,
  SystemHeader,
  OutsideRoot,
  TooSmall,
  Trivial,
  AlreadyInstrumented,
  LambdaNotSelected,
};
constexpr int SkipReasonCount = 15;
const char *skipReasonName(Skip S);

/// One function definition in the source, as the rewriter sees it.
struct FunctionReport {
  std::string File; ///< relative to the root; absolute when outside it
  unsigned Line = 0;
  std::string Signature; ///< the documented name format, e.g. `ns::S::get(int) const`
  unsigned Kinds = 0;
  Skip Reason = Skip::None;
  unsigned RuleLine = 0; ///< the rule that decided, 0 for the default
  std::string RuleText;
  /// Judged only for functions the rules include: whether it is trivial, its inlined size,
  /// or why it is not.
  bool Judged = false;
  Triviality Cost;
};

/// A text insertion at a byte offset of a file, with where it came from.
struct Insertion {
  std::string Text;
  std::string Origin; ///< `file:line` of the function, for conflict messages
};

/// What every translation unit found, merged. Thread-safe: TUs may run in parallel.
class Findings {
public:
  /// Records an insertion; an identical one from another TU is merged. A different text at the
  /// same place is a conflict: returns false and describes both sides in \p Conflict.
  bool insert(const std::string &AbsFile, unsigned Offset, Insertion I, std::string &Conflict);
  /// Records what was decided for a function; see the definition for several units' reports.
  void report(const std::string &AbsFile, unsigned Offset, FunctionReport R);
  void noteContent(const std::string &AbsFile, uint64_t Hash);

  std::map<std::string, std::map<unsigned, Insertion>> Insertions;
  /// Every function once, keyed by (file, offset): a header seen by many TUs reports once.
  std::map<std::pair<std::string, unsigned>, FunctionReport> Reports;
  /// The content hash of each file when it was parsed, to refuse writing over later changes.
  std::map<std::string, uint64_t> ContentHashes;
  std::mutex M;
};

struct Options {
  std::string Root; ///< absolute, no trailing slash
  const rules::RuleSet *Rules = nullptr;
};

/// The AST match callback: one instance per translation unit run.
class Instrumenter : public clang::ast_matchers::MatchFinder::MatchCallback {
public:
  Instrumenter(const Options &Opts, Findings &Out) : Opts(Opts), Out(Out) {}
  void registerMatchers(clang::ast_matchers::MatchFinder &Finder);
  void run(const clang::ast_matchers::MatchFinder::MatchResult &Result) override;
  void onStartOfTranslationUnit() override { Analyzer.reset(); }
  /// Conflicts found so far; any makes the run fail.
  std::vector<std::string> Conflicts;

private:
  const Options &Opts;
  Findings &Out;
  std::unique_ptr<TrivialityAnalyzer> Analyzer; ///< for the unit being matched
};

/// FNV-1a 64 of (project-relative file, signature): a site's stable id.
uint64_t siteId(const std::string &File, const std::string &Signature);
uint64_t contentHash(const char *Data, size_t Size);

/// The line inserted at the top of every edited file, and the prefix of every inserted scope.
extern const char *const IncludeBlock;
extern const char *const ScopePrefix;

} // namespace scopeprof::rewrite
