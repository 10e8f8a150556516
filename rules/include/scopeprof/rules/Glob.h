// Glob patterns over file paths and C++ qualified names, matched in linear time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scopeprof::rules {

/// What separates the segments of a subject: `/` in paths, `::` in C++ names.
/// `*` and `?` never match a separator; `**` does.
enum class Separator { Path, Scope };

struct GlobError {
  size_t Column = 0; ///< 0-based byte offset into the pattern.
  std::string Message;
};

/// A compiled glob. Supports `*`, `**`, `?`, `[a-z]`, `[!a-z]`, `{a,b,c}`
/// (nestable) and `\` escapes. Matching simulates a Thompson NFA, so it is
/// O(|pattern| * |subject|) for every pattern: no exponential backtracking.
class Glob {
public:
  /// The empty pattern: matches only the empty string.
  Glob();

  /// Compiles \p Pattern; on a syntax error returns nullopt and fills \p Err.
  static std::optional<Glob> compile(std::string_view Pattern, Separator Sep,
                                     GlobError *Err = nullptr);

  bool matches(std::string_view Subject) const;
  const std::string &pattern() const { return Pattern; }

  struct State;

private:
  std::string Pattern;
  Separator Sep = Separator::Path;
  std::vector<State> States;
  // Epsilon closure of every state, as a bitset of States.size() bits.
  std::vector<uint64_t> Closures;
  size_t Words = 0;
  uint32_t Start = 0;
};

struct Glob::State {
  enum Kind : uint8_t {
    Literal,     ///< one code point
    AnyChar,     ///< `?`
    Class,       ///< `[...]` / `[!...]`
    Star,        ///< `*`: loops on non-separator code points
    DoubleStar,  ///< `**`: loops on anything
    DeepSegment, ///< `**` followed by a separator: "" or anything ending in one
    Split,       ///< epsilon to Next and Alt (braces)
    Match,
  };
  Kind K = Match;
  bool Negated = false;
  uint32_t CodePoint = 0;
  uint32_t Next = 0;
  uint32_t Alt = 0;
  std::vector<std::pair<uint32_t, uint32_t>> Ranges; ///< for Class
};

/// The qualified name part of a signature: `ns::S::f(int) const` -> `ns::S::f`.
/// Parentheses that belong to the name, as in `operator()` or
/// `(anonymous namespace)`, are kept.
std::string_view qualifiedNameOf(std::string_view Signature);

} // namespace scopeprof::rules
