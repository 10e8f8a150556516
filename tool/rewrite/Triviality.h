// Decides whether a function is trivial: so cheap that a profiling scope would cost more than
// the work it measures, and would only blur its caller's self time.
#pragma once

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace scopeprof::rewrite {

/// A function is trivial when its body, with the bodies of everything it calls inlined
/// recursively, is straight-line code of at most this many AST nodes (see countsAsWork()).
constexpr unsigned TrivialBudget = 200;
/// A call of a function that carries its own scope is not inlined: that function's time is
/// its own, measured there. A trivial function makes at most this many such calls: a thin
/// wrapper or a fast path with a measured slow one, not a sequence of steps whose order is the
/// structure of the profile.
constexpr unsigned MaxMeasuredCalls = 3;

struct Triviality {
  bool Trivial = false;
  unsigned Size = 0; ///< the inlined size; meaningful when Trivial
  std::string Why;   ///< when not trivial: the first construct that made it so
  /// When trivial: the signatures of the measured functions it calls, which must get their
  /// scopes for it to stay trivial (Findings::resolve()).
  std::set<std::string> MeasuredCallees;
  /// A template judged by its instantiations in the unit (its pattern, which may be
  /// instantiated with any type, was not trivial): how many. Units that instantiate it
  /// differently may then differ; Findings::report() lets the one with a non-trivial
  /// instantiation decide.
  unsigned Instances = 0;
  /// A template whose pattern is not trivial, instantiated nowhere in this unit: the unit
  /// compiles no code of it, and a unit that instantiates it decides.
  bool Undecided = false;
};

/// One per translation unit: memoizes every callee it has costed.
///
/// A decision must not depend on the translation unit: a header seen by several gets one
/// decision. So a callee's body counts only where every unit that sees the function sees it
/// too (not a definition private to another main file), and a template pattern is judged by
/// itself and by the patterns of the templates it calls; only a pattern that is not trivial
/// so (an operation on a `T` may call anything) is judged again by the unit's instantiations
/// of it, which are all the code the unit compiles of it (see Triviality::Instances).
class TrivialityAnalyzer {
public:
  /// The signature of a function's scope, if it gets one wherever its body is (a project
  /// function the rules choose) unless it is trivial; decided from its declaration alone, so
  /// every unit decides alike.
  using ScopeName = std::function<std::optional<std::string>(const clang::FunctionDecl *)>;
  TrivialityAnalyzer(clang::ASTContext &Ctx, ScopeName ScopeOf)
      : Ctx(Ctx), ScopeOf(std::move(ScopeOf)) {}
  /// \p FD is a definition with a body.
  Triviality judge(const clang::FunctionDecl *FD);

private:
  struct Cost {
    unsigned Size = 0;
    unsigned MeasuredCalls = 0; ///< calls of functions with a scope of their own
    std::set<std::string> MeasuredCallees; ///< their signatures
    std::string Why; ///< the innermost reason; empty: within the budget, straight-line, visible
    std::string Via; ///< the callee it came through, if not the body itself
  };
  friend class BodyCost;
  /// The inlined cost of one call of \p Def; \p RootInMainFile: whether the function being
  /// judged lives in the main file (then the main file's private definitions count too).
  const Cost &costOf(const clang::FunctionDecl *Def, bool RootInMainFile);
  /// What made a cost not trivial, with the callee it came through.
  static std::string reasonOf(const Cost &C);
  /// The instantiations of a template pattern this unit has bodies for.
  static std::vector<const clang::FunctionDecl *> instancesOf(const clang::FunctionDecl *Pattern);

  /// The reason costOf() gives for a function it is still costing: the call is recursive.
  static constexpr const char *InProgress = "(in progress)";

  clang::ASTContext &Ctx;
  ScopeName ScopeOf;
  std::map<std::pair<const clang::FunctionDecl *, bool>, Cost> Memo;
  std::set<std::pair<const clang::FunctionDecl *, bool>> Active;
};

} // namespace scopeprof::rewrite
