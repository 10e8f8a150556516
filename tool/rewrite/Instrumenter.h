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
#include <optional>
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
  SharedBody,
};
constexpr int SkipReasonCount = 16;
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
  /// The scope statement and where it goes (just after the body's `{`); inserted when Reason
  /// is None. Written for a trivial function too, which gets it back if it must.
  std::string Scope;
  unsigned InsertAt = 0;
  /// Which translation unit this is from: its rank in the run's stable order, and its name.
  size_t Unit = 0;
  std::string UnitName;
  /// What another translation unit (or another inclusion in the same one) saw at this place,
  /// when it differs from this report: the first unit that saw it.
  struct View {
    size_t Unit = 0;
    std::string UnitName;
    bool Instrumented = false;
  };
  std::map<std::string, View> Others; ///< by description: signature, and reason if skipped
  /// For Skip::SharedBody: the report whose scope the shared body got.
  std::string SharedWith;
  /// Judged only for functions the rules include: whether it is trivial, its inlined size,
  /// or why it is not.
  bool Judged = false;
  Triviality Cost;
  /// Trivial, and a `trivial:` rule said to skip it: it is not given its scope back.
  bool TrivialByRule = false;
  /// Defined in the unit's main file, which no other unit sees: it may get its scope back for
  /// a callee its unit sees without one (Findings::keepCallersOfUnscoped()).
  bool InMainFile = false;
};

/// What every translation unit found, merged. Thread-safe: TUs may run in parallel.
///
/// The same source can be compiled differently by two translation units (a macro renames a
/// namespace, an #if picks one of two declarators for one body). That is legal and common, so
/// it never fails a run: at each place the report of the first unit in the run's stable order
/// (see Unit) is kept, whatever order the units were parsed in, and what the others saw is
/// noted beside it for the summary and --explain.
class Findings {
public:
  /// Merges what a unit saw of the function declared at \p Offset of \p AbsFile.
  void report(const std::string &AbsFile, unsigned Offset, FunctionReport R);
  void noteContent(const std::string &AbsFile, uint64_t Hash);
  /// After every unit is merged: one scope per body. Declarations sharing a body (each unit
  /// saw one of them) give it to the first in the stable order; the others become SharedBody.
  /// Fills Insertions.
  void resolve();
  /// Reports whose scope depends on the unit (they differ between units and one would have a
  /// scope) or that share a body, for the summary.
  std::vector<const FunctionReport *> divergent() const;

  /// Every function once, keyed by (file, offset): a header seen by many TUs reports once.
  std::map<std::pair<std::string, unsigned>, FunctionReport> Reports;
  /// file -> offset -> the scope text inserted there.
  std::map<std::string, std::map<unsigned, std::string>> Insertions;
  /// The content hash of each file when it was parsed, to refuse writing over later changes.
  std::map<std::string, uint64_t> ContentHashes;
  std::mutex M;

private:
  /// A trivial function counted each measured callee as one node, trusting it to get a scope
  /// wherever its body is. Where one its unit sees got none (skipped, or trivial by trusting
  /// callees of its own), time could go unmeasured, a whole recursion between a header and a
  /// file: a caller in a main file gets its scope back. Not one in a header, and not for what
  /// another unit alone sees: `scopeprof cc` rewrites each unit alone, and must decide alike.
  void keepCallersOfUnscoped();
};

struct Options {
  std::string Root; ///< absolute, no trailing slash
  const rules::RuleSet *Rules = nullptr;
};

/// The translation unit being parsed: its rank in the run's stable order and its name.
struct Unit {
  size_t Rank = 0;
  std::string Name;
};

/// The AST match callback: one instance per translation unit run.
class Instrumenter : public clang::ast_matchers::MatchFinder::MatchCallback {
public:
  Instrumenter(const Options &Opts, const Unit &TU, Findings &Out)
      : Opts(Opts), TU(TU), Out(Out) {}
  void registerMatchers(clang::ast_matchers::MatchFinder &Finder);
  void run(const clang::ast_matchers::MatchFinder::MatchResult &Result) override;
  void onStartOfTranslationUnit() override { Analyzer.reset(); }

private:
  /// TrivialityAnalyzer's question: the signature of \p FD's scope if, unless trivial, it gets
  /// one wherever it is defined (a project function the rules choose; judged by its first
  /// declaration). Findings::resolve() checks that it did.
  std::optional<std::string> scopeOf(const clang::FunctionDecl *FD, clang::ASTContext &Ctx) const;

  const Options &Opts;
  const Unit &TU;
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
