// Glob compilation to a Thompson NFA and its bit-parallel simulation.
#include "scopeprof/rules/Glob.h"

#include <algorithm>
#include <cstring>

namespace scopeprof::rules {
namespace {

constexpr uint32_t InvalidByteBase = 0x80000000u;

/// Decodes one UTF-8 code point at \p I; an invalid byte decodes to itself
/// (offset so it never equals a valid code point) and advances by one.
uint32_t decodeUtf8(std::string_view S, size_t &I) {
  auto B = static_cast<unsigned char>(S[I]);
  int Len = B < 0x80 ? 1 : (B >> 5) == 0x6 ? 2 : (B >> 4) == 0xE ? 3 : (B >> 3) == 0x1E ? 4 : 0;
  if (Len == 0 || I + Len > S.size()) {
    ++I;
    return InvalidByteBase | B;
  }
  uint32_t CP = Len == 1 ? B : B & (0x7F >> Len);
  for (int K = 1; K < Len; ++K) {
    auto C = static_cast<unsigned char>(S[I + K]);
    if ((C & 0xC0) != 0x80) {
      ++I;
      return InvalidByteBase | B;
    }
    CP = (CP << 6) | (C & 0x3F);
  }
  I += Len;
  return CP;
}

bool isIdentChar(char C) {
  return (C >= 'a' && C <= 'z') || (C >= 'A' && C <= 'Z') || (C >= '0' && C <= '9') || C == '_';
}

/// Walks a C++ qualified name byte by byte, tracking bracket depth so that
/// `::` inside template arguments or parameter lists is not a separator, and
/// treating operator symbols (`operator<<`, `operator()`) as plain text.
class NameScanner {
public:
  explicit NameScanner(std::string_view S) : S(S) {}

  /// Depth before the byte at \p I; must be called with increasing I.
  int depthAt(size_t I) {
    while (Pos <= I)
      step();
    return DepthBefore;
  }
  bool isStructural(size_t I) {
    depthAt(I);
    return LastStructural;
  }

private:
  void step() {
    size_t I = Pos++;
    DepthBefore = Depth;
    LastStructural = I >= OperatorEnd;
    if (!LastStructural)
      return;
    if (startsOperatorKeyword(I)) {
      OperatorEnd = operatorSymbolEnd(I + 8);
      LastStructural = false;
      return;
    }
    char C = S[I];
    if (C == '<' || C == '(' || C == '[')
      ++Depth;
    else if ((C == '>' || C == ')' || C == ']') && Depth > 0)
      --Depth;
  }

  bool startsOperatorKeyword(size_t I) const {
    if (S.compare(I, 8, "operator") != 0)
      return false;
    if (I > 0 && isIdentChar(S[I - 1]))
      return false;
    return I + 8 >= S.size() || !isIdentChar(S[I + 8]);
  }

  size_t operatorSymbolEnd(size_t J) const {
    while (J < S.size() && S[J] == ' ')
      ++J;
    if (S.compare(J, 2, "()") == 0 || S.compare(J, 2, "[]") == 0 || S.compare(J, 2, "\"\"") == 0)
      return J + 2;
    while (J < S.size() && std::strchr("<>=!+-*/%^&|~,", S[J]) != nullptr)
      ++J;
    return J;
  }

  std::string_view S;
  size_t Pos = 0;
  size_t OperatorEnd = 0;
  int Depth = 0;
  int DepthBefore = 0;
  bool LastStructural = true;
};

struct Node {
  enum Kind { Literal, AnyChar, Class, Star, DoubleStar, DeepSegment, Alternatives };
  Node(Kind K, uint32_t CodePoint = 0) : K(K), CodePoint(CodePoint) {}
  Kind K;
  uint32_t CodePoint;
  bool Negated = false;
  std::vector<std::pair<uint32_t, uint32_t>> Ranges;
  std::vector<std::vector<Node>> Alts;
};

class Parser {
public:
  Parser(std::string_view P, Separator Sep) : P(P), Sep(Sep) {}

  bool parse(std::vector<Node> &Out, GlobError &Err) {
    if (!parseSequence(Out, /*InBraces=*/false, Err))
      return false;
    if (I < P.size()) { // only a stray '}' stops a top-level sequence
      Err = {I, "unmatched '}' (write '\\}' for a literal brace)"};
      return false;
    }
    return true;
  }

private:
  bool parseSequence(std::vector<Node> &Out, bool InBraces, GlobError &Err) {
    while (I < P.size()) {
      char C = P[I];
      if (C == '}' || (InBraces && C == ','))
        return true;
      if (C == '*') {
        size_t Begin = I;
        while (I < P.size() && P[I] == '*')
          ++I;
        if (I - Begin == 1) {
          Out.emplace_back(Node::Star);
        } else if (separatorAt(I)) {
          I += Sep == Separator::Path ? 1 : 2;
          Out.emplace_back(Node::DeepSegment);
        } else {
          Out.emplace_back(Node::DoubleStar);
        }
      } else if (C == '?') {
        ++I;
        Out.emplace_back(Node::AnyChar);
      } else if (C == '[') {
        Node N(Node::Class);
        if (!parseClass(N, Err))
          return false;
        Out.push_back(std::move(N));
      } else if (C == '{') {
        if (!parseBraces(Out, Err))
          return false;
      } else if (C == '\\') {
        if (I + 1 >= P.size()) {
          Err = {I, "'\\' at the end of the pattern escapes nothing"};
          return false;
        }
        ++I;
        Out.emplace_back(Node::Literal, decodeUtf8(P, I));
      } else {
        Out.emplace_back(Node::Literal, decodeUtf8(P, I));
      }
    }
    return true;
  }

  bool separatorAt(size_t J) const {
    return Sep == Separator::Path ? P.compare(J, 1, "/") == 0 : P.compare(J, 2, "::") == 0;
  }

  bool parseClass(Node &N, GlobError &Err) {
    size_t Open = I++;
    if (I < P.size() && (P[I] == '!' || P[I] == '^')) {
      N.Negated = true;
      ++I;
    }
    bool First = true;
    while (I < P.size() && (P[I] != ']' || First)) {
      First = false;
      uint32_t Lo = classChar();
      uint32_t Hi = Lo;
      if (I + 1 < P.size() && P[I] == '-' && P[I + 1] != ']') {
        ++I;
        Hi = classChar();
        if (Hi < Lo) {
          Err = {Open, "character range is out of order in '[...]'"};
          return false;
        }
      }
      N.Ranges.push_back({Lo, Hi});
    }
    if (I >= P.size()) {
      Err = {Open, "unterminated '[' (write '\\[' for a literal bracket)"};
      return false;
    }
    ++I; // ']'
    return true;
  }

  uint32_t classChar() {
    if (P[I] == '\\' && I + 1 < P.size())
      ++I;
    return decodeUtf8(P, I);
  }

  bool parseBraces(std::vector<Node> &Out, GlobError &Err) {
    size_t Open = I++;
    Node N(Node::Alternatives);
    for (;;) {
      N.Alts.emplace_back();
      if (!parseSequence(N.Alts.back(), /*InBraces=*/true, Err))
        return false;
      if (I >= P.size()) {
        Err = {Open, "unterminated '{' (write '\\{' for a literal brace)"};
        return false;
      }
      if (P[I++] == '}')
        break;
    }
    Out.push_back(std::move(N));
    return true;
  }

  std::string_view P;
  Separator Sep;
  size_t I = 0;
};

} // namespace

class GlobBuilder {
public:
  explicit GlobBuilder(std::vector<Glob::State> &States) : States(States) {}

  uint32_t emit(Glob::State S) {
    States.push_back(std::move(S));
    return static_cast<uint32_t>(States.size() - 1);
  }

  /// Compiles \p Seq so that a match of it continues at state \p Next.
  /// States are created after their continuation, so every epsilon edge
  /// points to a lower index.
  uint32_t compile(const std::vector<Node> &Seq, uint32_t Next) {
    for (auto It = Seq.rbegin(); It != Seq.rend(); ++It)
      Next = compileNode(*It, Next);
    return Next;
  }

private:
  uint32_t compileNode(const Node &N, uint32_t Next) {
    Glob::State S;
    S.Next = Next;
    switch (N.K) {
    case Node::Literal:
      S.K = Glob::State::Literal;
      S.CodePoint = N.CodePoint;
      return emit(S);
    case Node::AnyChar:
      S.K = Glob::State::AnyChar;
      return emit(S);
    case Node::Class:
      S.K = Glob::State::Class;
      S.Negated = N.Negated;
      S.Ranges = N.Ranges;
      return emit(S);
    case Node::Star:
      S.K = Glob::State::Star;
      return emit(S);
    case Node::DoubleStar:
      S.K = Glob::State::DoubleStar;
      return emit(S);
    case Node::DeepSegment:
      S.K = Glob::State::DeepSegment;
      return emit(S);
    case Node::Alternatives: {
      std::vector<uint32_t> Starts;
      for (const auto &Alt : N.Alts)
        Starts.push_back(compile(Alt, Next));
      uint32_t Head = Starts.back();
      for (size_t K = Starts.size() - 1; K-- > 0;) {
        Glob::State Split;
        Split.K = Glob::State::Split;
        Split.Next = Starts[K];
        Split.Alt = Head;
        Head = emit(Split);
      }
      return Head;
    }
    }
    return Next;
  }

  std::vector<Glob::State> &States;
};

Glob::Glob() : States(1), Closures(1, 1), Words(1) {}

std::optional<Glob> Glob::compile(std::string_view Pattern, Separator Sep, GlobError *Err) {
  std::vector<Node> Seq;
  GlobError LocalErr;
  if (!Parser(Pattern, Sep).parse(Seq, LocalErr)) {
    if (Err)
      *Err = LocalErr;
    return std::nullopt;
  }
  Glob G;
  G.Pattern = std::string(Pattern);
  G.Sep = Sep;
  G.States.clear();
  GlobBuilder Builder(G.States);
  uint32_t MatchState = Builder.emit(State{});
  G.Start = Builder.compile(Seq, MatchState);

  size_t N = G.States.size();
  G.Words = (N + 63) / 64;
  G.Closures.assign(N * G.Words, 0);
  for (size_t S = 0; S < N; ++S) {
    uint64_t *C = &G.Closures[S * G.Words];
    C[S / 64] |= uint64_t{1} << (S % 64);
    const State &St = G.States[S];
    auto Merge = [&](uint32_t T) {
      const uint64_t *From = &G.Closures[T * G.Words];
      for (size_t W = 0; W < G.Words; ++W)
        C[W] |= From[W];
    };
    switch (St.K) {
    case State::Split:
      Merge(St.Next);
      Merge(St.Alt);
      break;
    case State::Star:
    case State::DoubleStar:
    case State::DeepSegment:
      Merge(St.Next);
      break;
    default:
      break;
    }
  }
  return G;
}

bool Glob::matches(std::string_view Subject) const {
  constexpr size_t SmallWords = 8;
  uint64_t SmallBuf[2 * SmallWords];
  std::vector<uint64_t> BigBuf;
  uint64_t *Cur = SmallBuf;
  if (Words > SmallWords) {
    BigBuf.resize(2 * Words);
    Cur = BigBuf.data();
  }
  uint64_t *Nxt = Cur + Words;
  std::copy_n(&Closures[Start * Words], Words, Cur);

  auto Add = [&](uint32_t S) {
    const uint64_t *C = &Closures[S * Words];
    for (size_t W = 0; W < Words; ++W)
      Nxt[W] |= C[W];
  };

  NameScanner Scanner(Subject);
  size_t I = 0;
  while (I < Subject.size()) {
    bool IsSep = false;
    bool EndsSep = false;
    if (Sep == Separator::Path) {
      IsSep = EndsSep = Subject[I] == '/';
    } else if (Subject[I] == ':') {
      bool TopLevel = Scanner.depthAt(I) == 0 && Scanner.isStructural(I);
      bool PrevColon = I > 0 && Subject[I - 1] == ':';
      bool NextColon = I + 1 < Subject.size() && Subject[I + 1] == ':';
      IsSep = TopLevel && (PrevColon || NextColon);
      EndsSep = IsSep && PrevColon;
    }
    uint32_t CP = decodeUtf8(Subject, I);

    std::fill_n(Nxt, Words, 0);
    bool Any = false;
    for (size_t W = 0; W < Words; ++W) {
      for (uint64_t Bits = Cur[W]; Bits != 0; Bits &= Bits - 1) {
        auto S = static_cast<uint32_t>(W * 64 + __builtin_ctzll(Bits));
        const State &St = States[S];
        switch (St.K) {
        case State::Literal:
          if (St.CodePoint == CP)
            Add(St.Next);
          break;
        case State::AnyChar:
          if (!IsSep)
            Add(St.Next);
          break;
        case State::Class: {
          if (IsSep)
            break;
          bool In = std::any_of(St.Ranges.begin(), St.Ranges.end(),
                                [CP](auto R) { return CP >= R.first && CP <= R.second; });
          if (In != St.Negated)
            Add(St.Next);
          break;
        }
        case State::Star:
          if (!IsSep)
            Add(S);
          break;
        case State::DoubleStar:
          Add(S);
          break;
        case State::DeepSegment:
          // Only the loop itself: inside a segment the pattern may not resume.
          Nxt[S / 64] |= uint64_t{1} << (S % 64);
          if (EndsSep)
            Add(St.Next);
          break;
        default:
          break;
        }
      }
    }
    for (size_t W = 0; W < Words && !Any; ++W)
      Any = Nxt[W] != 0;
    if (!Any)
      return false;
    std::swap(Cur, Nxt);
  }
  for (size_t W = 0; W < Words; ++W)
    for (uint64_t Bits = Cur[W]; Bits != 0; Bits &= Bits - 1)
      if (States[W * 64 + __builtin_ctzll(Bits)].K == State::Match)
        return true;
  return false;
}

std::string_view qualifiedNameOf(std::string_view Signature) {
  NameScanner Scanner(Signature);
  size_t ParamsOpen = std::string_view::npos;
  for (size_t I = 0; I < Signature.size(); ++I) {
    int Depth = Scanner.depthAt(I);
    if (Depth != 0 || !Scanner.isStructural(I))
      continue;
    if (Signature[I] == '(')
      ParamsOpen = I;
    else if (Signature.compare(I, 2, "::") == 0)
      ParamsOpen = std::string_view::npos; // that group was a scope, e.g. (anonymous namespace)
  }
  if (ParamsOpen == std::string_view::npos || ParamsOpen == 0)
    return Signature;
  std::string_view Name = Signature.substr(0, ParamsOpen);
  while (!Name.empty() && Name.back() == ' ')
    Name.remove_suffix(1);
  return Name;
}

} // namespace scopeprof::rules
