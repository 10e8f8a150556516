// Parsing and evaluation of rules files.
#include "scopeprof/rules/Rules.h"

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

namespace scopeprof::rules {
namespace {

constexpr const char *KindNames[KindCount] = {"free",     "method", "ctor",   "dtor",
                                              "operator", "lambda", "static", "template"};

bool isSpace(char C) { return C == ' ' || C == '\t' || C == '\r'; }

/// Drops trailing whitespace, except a space or tab escaped by an odd number
/// of backslashes, which belongs to the glob. A '\r' is never kept: it would
/// not survive a CRLF round trip.
std::string_view trimRight(std::string_view S) {
  while (!S.empty() && isSpace(S.back())) {
    if (S.back() != '\r') {
      size_t Backslashes = 0;
      while (Backslashes + 1 < S.size() && S[S.size() - 2 - Backslashes] == '\\')
        ++Backslashes;
      if (Backslashes % 2 == 1)
        break;
    }
    S.remove_suffix(1);
  }
  return S;
}

size_t skipSpaces(std::string_view S, size_t I) {
  while (I < S.size() && isSpace(S[I]))
    ++I;
  return I;
}

struct SelectorName {
  const char *Name;
  Rule::Selector Sel;
};
constexpr SelectorName Selectors[] = {{"file", Rule::File},
                                      {"function", Rule::Function},
                                      {"signature", Rule::Signature},
                                      {"kind", Rule::KindSelector},
                                      {"trivial", Rule::Trivial}};

/// Parses one line; returns false with \p Err's Column and Message set.
class LineParser {
public:
  LineParser(std::string_view Line, unsigned LineNo) : Line(Line), LineNo(LineNo) {}

  bool parse(std::vector<Rule> &Rules, std::vector<Rule> &CounterRules, Thresholds &Limits,
             RulesError &Err) {
    size_t I = skipSpaces(Line, 0);
    if (I == Line.size() || Line[I] == '#')
      return true;
    size_t WordEnd = I;
    while (WordEnd < Line.size() && !isSpace(Line[WordEnd]))
      ++WordEnd;
    std::string_view Word = Line.substr(I, WordEnd - I);
    if (Word == "include" || Word == "exclude")
      return parseRule(Word == "include" ? Rule::Include : Rule::Exclude, WordEnd, Rules, Err);
    if (Word == "counters")
      return parseCounters(WordEnd, CounterRules, Err);
    if (Word == "min-statements")
      return parseNumber(WordEnd, Limits.MinStatements, Err);
    if (Word == "min-lines")
      return parseNumber(WordEnd, Limits.MinLines, Err);
    return fail(Err, I,
                "unknown directive '" + std::string(Word) +
                    "' (expected include, exclude, counters, min-statements or min-lines)");
  }

private:
  bool fail(RulesError &Err, size_t Column, std::string Message) {
    Err.Column = static_cast<unsigned>(Column) + 1;
    Err.Message = std::move(Message);
    return false;
  }

  /// `counters LIST selector:glob`: LIST is memory, cpu, both comma-separated, or none.
  bool parseCounters(size_t I, std::vector<Rule> &CounterRules, RulesError &Err) {
    I = skipSpaces(Line, I);
    size_t ListEnd = I;
    while (ListEnd < Line.size() && !isSpace(Line[ListEnd]))
      ++ListEnd;
    if (I == ListEnd)
      return fail(Err, I, "expected a list of counters (memory, cpu, or none)");
    std::string_view List = Line.substr(I, ListEnd - I);
    if (List.find(':') != std::string_view::npos)
      return fail(Err, I, "expected a list of counters (memory, cpu, or none) before the selector");
    unsigned Counters = 0;
    bool None = false;
    for (size_t At = 0; At <= List.size();) {
      size_t Comma = std::min(List.find(',', At), List.size());
      std::string_view Name = List.substr(At, Comma - At);
      if (Name == "memory")
        Counters |= CounterMemory;
      else if (Name == "cpu")
        Counters |= CounterCpu;
      else if (Name == "none")
        None = true;
      else
        return fail(Err, I + At,
                    "unknown counter '" + std::string(Name) + "' (expected memory, cpu or none)");
      At = Comma + 1;
    }
    if (None && Counters)
      return fail(Err, I, "'none' cannot be combined with other counters");
    std::vector<Rule> One;
    if (!parseRule(Rule::Include, ListEnd, One, Err))
      return false;
    Rule &R = One.back();
    if (R.Sel == Rule::Trivial)
      return fail(Err, skipSpaces(Line, ListEnd), "a counters line cannot use the trivial: selector");
    R.Counters = Counters;
    R.Text = "counters " + counterNames(Counters) + R.Text.substr(R.Text.find(' '));
    CounterRules.push_back(std::move(R));
    return true;
  }

  bool parseRule(Rule::Action Act, size_t I, std::vector<Rule> &Rules, RulesError &Err) {
    I = skipSpaces(Line, I);
    if (I == Line.size())
      return fail(Err, I, "expected a selector (file:, function:, signature:, kind: or trivial:)");
    size_t Colon = Line.find(':', I);
    size_t NameEnd = I;
    while (NameEnd < Line.size() && NameEnd != Colon && !isSpace(Line[NameEnd]))
      ++NameEnd;
    std::string_view Name = Line.substr(I, NameEnd - I);
    const SelectorName *Found = nullptr;
    for (const auto &S : Selectors)
      if (Name == S.Name)
        Found = &S;
    if (!Found)
      return fail(Err, I,
                  "unknown selector '" + std::string(Name) +
                      "' (expected file:, function:, signature:, kind: or trivial:)");
    if (NameEnd != Colon)
      return fail(Err, NameEnd, "expected ':' after '" + std::string(Name) + "'");
    size_t GlobBegin = skipSpaces(Line, Colon + 1);
    std::string_view Pattern = trimRight(Line.substr(GlobBegin));
    if (Pattern.empty())
      return fail(Err, GlobBegin, "expected a glob after '" + std::string(Name) + ":'");

    Rule R;
    R.Act = Act;
    R.Sel = Found->Sel;
    R.Line = LineNo;
    GlobError GErr;
    auto G = Glob::compile(Pattern, R.Sel == Rule::File ? Separator::Path : Separator::Scope,
                           &GErr);
    if (!G)
      return fail(Err, GlobBegin + GErr.Column, GErr.Message);
    R.Pattern = std::move(*G);
    if (R.Sel == Rule::KindSelector) {
      for (unsigned K = 0; K < KindCount; ++K)
        if (R.Pattern.matches(KindNames[K]))
          R.KindMask |= 1u << K;
      if (R.KindMask == 0)
        return fail(Err, GlobBegin,
                    "'" + std::string(Pattern) +
                        "' matches no kind (expected free, method, ctor, dtor, operator, "
                        "lambda, static or template)");
    }
    R.Text = std::string(Act == Rule::Include ? "include " : "exclude ") + Found->Name + ":" +
             std::string(Pattern);
    Rules.push_back(std::move(R));
    return true;
  }

  bool parseNumber(size_t I, unsigned &Out, RulesError &Err) {
    I = skipSpaces(Line, I);
    std::string_view Rest = trimRight(Line.substr(I));
    if (Rest.empty())
      return fail(Err, I, "expected a number");
    unsigned long long V = 0;
    for (size_t K = 0; K < Rest.size(); ++K) {
      if (Rest[K] < '0' || Rest[K] > '9')
        return fail(Err, I + K, "expected a number, found '" + std::string(Rest) + "'");
      V = V * 10 + static_cast<unsigned>(Rest[K] - '0');
      if (V > 1000000)
        return fail(Err, I, "number '" + std::string(Rest) + "' is too large (at most 1000000)");
    }
    Out = static_cast<unsigned>(V);
    return true;
  }

  std::string_view Line;
  unsigned LineNo;
};

} // namespace

const char *kindName(unsigned Bit) {
  for (unsigned K = 0; K < KindCount; ++K)
    if (Bit == (1u << K))
      return KindNames[K];
  return nullptr;
}

std::string kindNames(unsigned Kinds) {
  std::string Out;
  for (unsigned K = 0; K < KindCount; ++K) {
    if (!(Kinds & (1u << K)))
      continue;
    if (!Out.empty())
      Out += ',';
    Out += KindNames[K];
  }
  return Out;
}

std::optional<unsigned> parseKinds(std::string_view Names) {
  unsigned Kinds = 0;
  while (!Names.empty()) {
    size_t Comma = Names.find(',');
    std::string_view Name = Names.substr(0, Comma);
    bool Known = false;
    for (unsigned K = 0; K < KindCount; ++K)
      if (Name == KindNames[K]) {
        Kinds |= 1u << K;
        Known = true;
      }
    if (!Known)
      return std::nullopt;
    Names = Comma == std::string_view::npos ? std::string_view() : Names.substr(Comma + 1);
  }
  return Kinds;
}

bool Rule::matches(const Subject &S) const {
  switch (Sel) {
  case File:
    return Pattern.matches(S.File);
  case Function:
  case Trivial:
    return Pattern.matches(S.QualifiedName);
  case Signature:
    return Pattern.matches(S.Signature);
  case KindSelector:
    return (KindMask & S.Kinds) != 0;
  }
  return false;
}

std::string RulesError::format() const {
  std::ostringstream Out;
  if (Line == 0) {
    Out << "error: " << Message;
    return Out.str();
  }
  Out << File << ':' << Line << ':' << Column << ": error: " << Message << '\n';
  Out << "  " << LineText << '\n';
  Out << "  ";
  for (unsigned K = 1; K < Column && K <= LineText.size(); ++K)
    Out << (LineText[K - 1] == '\t' ? '\t' : ' ');
  Out << '^';
  return Out.str();
}

std::optional<RuleSet> RuleSet::parse(std::string_view Text, std::string_view FileName,
                                      RulesError *Err) {
  RuleSet Set;
  unsigned LineNo = 0;
  while (!Text.empty()) {
    size_t End = Text.find('\n');
    std::string_view Line = Text.substr(0, End);
    Text = End == std::string_view::npos ? std::string_view() : Text.substr(End + 1);
    ++LineNo;
    if (!Line.empty() && Line.back() == '\r')
      Line.remove_suffix(1);
    RulesError LineErr;
    if (!LineParser(Line, LineNo).parse(Set.Rules, Set.CounterRules, Set.Limits, LineErr)) {
      if (Err) {
        *Err = std::move(LineErr);
        Err->File = std::string(FileName);
        Err->Line = LineNo;
        Err->LineText = std::string(Line);
      }
      return std::nullopt;
    }
  }
  return Set;
}

std::optional<RuleSet> RuleSet::load(const std::string &Path, RulesError *Err) {
  std::ifstream In(Path, std::ios::binary);
  std::ostringstream Buf;
  if (In)
    Buf << In.rdbuf();
  if (!In || In.bad()) {
    if (Err) {
      *Err = RulesError{};
      Err->File = Path;
      Err->Message = "cannot read rules file '" + Path + "': " + std::strerror(errno);
    }
    return std::nullopt;
  }
  return parse(Buf.str(), Path, Err);
}

Decision RuleSet::decide(const Subject &S) const {
  for (auto It = Rules.rbegin(); It != Rules.rend(); ++It)
    if (It->Sel != Rule::Trivial && It->matches(S))
      return {It->Act == Rule::Include, &*It};
  return {};
}

Decision RuleSet::keepTrivial(const Subject &S) const {
  for (auto It = Rules.rbegin(); It != Rules.rend(); ++It)
    if (It->Sel == Rule::Trivial && It->matches(S))
      return {It->Act == Rule::Include, &*It};
  return {false, nullptr};
}

std::optional<unsigned> RuleSet::counters(const Subject &S) const {
  for (auto It = CounterRules.rbegin(); It != CounterRules.rend(); ++It)
    if (It->matches(S))
      return It->Counters;
  return std::nullopt;
}

unsigned RuleSet::countersNamed() const {
  unsigned All = 0;
  for (const Rule &R : CounterRules)
    All |= R.Counters;
  return All;
}

std::string counterNames(unsigned Counters) {
  if (Counters == (CounterMemory | CounterCpu))
    return "memory,cpu";
  if (Counters == CounterMemory)
    return "memory";
  if (Counters == CounterCpu)
    return "cpu";
  return "none";
}

bool RuleSet::tooSmall(unsigned Statements, unsigned Lines) const {
  return Statements < Limits.MinStatements || Lines < Limits.MinLines;
}

std::string RuleSet::normalized() const {
  std::string Out;
  for (const Rule &R : Rules)
    Out += R.Text + "\n";
  for (const Rule &R : CounterRules)
    Out += R.Text + "\n";
  if (Limits.MinStatements)
    Out += "min-statements " + std::to_string(Limits.MinStatements) + "\n";
  if (Limits.MinLines)
    Out += "min-lines " + std::to_string(Limits.MinLines) + "\n";
  return Out;
}

} // namespace scopeprof::rules
