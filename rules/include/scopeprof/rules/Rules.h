// The rules language: which functions are instrumented (rewrite time) and recorded (run time).
#pragma once

#include "scopeprof/rules/Glob.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scopeprof::rules {

/// What a function is. A function usually has several kinds: a static
/// member operator is method | static | operator.
enum Kind : unsigned {
  KindFree = 1u << 0,
  KindMethod = 1u << 1,
  KindCtor = 1u << 2,
  KindDtor = 1u << 3,
  KindOperator = 1u << 4,
  KindLambda = 1u << 5,
  KindStatic = 1u << 6,
  KindTemplate = 1u << 7,
};
constexpr unsigned KindCount = 8;

/// The name of one kind bit, e.g. "ctor"; nullptr for anything else.
const char *kindName(unsigned Bit);
/// Kind names joined by ',' in bit order, e.g. "method,static".
std::string kindNames(unsigned Kinds);
/// Parses "method,static" into bits; nullopt names an unknown kind.
std::optional<unsigned> parseKinds(std::string_view Names);

/// A function as the rules see it.
struct Subject {
  std::string_view File;          ///< relative to the project root, '/'-separated
  std::string_view QualifiedName; ///< e.g. app::net::Socket::read
  std::string_view Signature;     ///< e.g. app::net::Socket::read(char *, size_t)
  unsigned Kinds = 0;
};

struct Rule {
  enum Action { Include, Exclude };
  /// Trivial rules match the qualified name like Function, but only decide whether a function
  /// the rewriter found trivial keeps its scope; decide() never sees them.
  enum Selector { File, Function, Signature, KindSelector, Trivial };
  Action Act = Include;
  Selector Sel = Function;
  Glob Pattern;
  unsigned KindMask = 0; ///< for KindSelector: every kind the glob names
  unsigned Counters = 0; ///< a `counters` line's set (CounterMemory | CounterCpu); 0 for none
  unsigned Line = 0;
  std::string Text; ///< normalized: `exclude function:app::**`

  bool matches(const Subject &S) const;
};

/// What a `counters` line asks to measure besides wall time (docs/rules.md, "Counters").
enum Counter : unsigned {
  CounterMemory = 1u << 0,
  CounterCpu = 1u << 1,
};
/// "memory,cpu", "memory", "cpu" or "none".
std::string counterNames(unsigned Counters);

/// Build-time size thresholds: functions below either are skipped as too small.
struct Thresholds {
  unsigned MinStatements = 0;
  unsigned MinLines = 0;
};

struct Decision {
  bool Included = true;
  const Rule *DecidedBy = nullptr; ///< nullptr: no rule matched, the default
};

struct RulesError {
  std::string File;
  unsigned Line = 0;   ///< 1-based; 0 when the file itself could not be read
  unsigned Column = 0; ///< 1-based
  std::string LineText;
  std::string Message;
  /// `file:line:col: error: message`, then the line and a caret under the column.
  std::string format() const;
};

class RuleSet {
public:
  /// An empty rule set: everything is included.
  RuleSet() = default;

  static std::optional<RuleSet> parse(std::string_view Text, std::string_view FileName,
                                      RulesError *Err);
  static std::optional<RuleSet> load(const std::string &Path, RulesError *Err);

  /// The last matching rule decides; with none, the function is included. `trivial:` rules
  /// take no part: they do not decide inclusion.
  Decision decide(const Subject &S) const;
  /// For a function the rewriter found trivial: the last matching `trivial:` rule decides
  /// whether it keeps its scope (Included); with none, it does not.
  Decision keepTrivial(const Subject &S) const;
  bool tooSmall(unsigned Statements, unsigned Lines) const;
  /// The run-time counters of a function: the last matching `counters` line decides; with
  /// none, nullopt (the process-wide SCOPEPROF_COUNTERS applies). Independent of decide().
  std::optional<unsigned> counters(const Subject &S) const;
  /// Every counter some `counters` line names.
  unsigned countersNamed() const;

  /// One rule per line, normalized, thresholds last; parses back to the same set.
  std::string normalized() const;

  const std::vector<Rule> &rules() const { return Rules; }
  const std::vector<Rule> &counterRules() const { return CounterRules; }
  const Thresholds &thresholds() const { return Limits; }

private:
  std::vector<Rule> Rules;
  std::vector<Rule> CounterRules; ///< `counters` lines, in file order
  Thresholds Limits;
};

} // namespace scopeprof::rules
