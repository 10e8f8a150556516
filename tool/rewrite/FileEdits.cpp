// Applying and stripping insertions, atomic writes and unified diffs.
#include "FileEdits.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <vector>

namespace scopeprof::rewrite {

std::string applyInsertions(const std::string &Content, const std::map<unsigned, std::string> &Edits) {
  std::string Out;
  Out.reserve(Content.size() + Edits.size() * 120);
  size_t Pos = 0;
  for (const auto &[Offset, Edit] : Edits) {
    if (Offset > Content.size())
      break;
    Out.append(Content, Pos, Offset - Pos);
    Out += Edit;
    Pos = Offset;
  }
  Out.append(Content, Pos, std::string::npos);
  return Out;
}

size_t includeBlockOffset(const std::string &Content) {
  return Content.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
}

bool hasIncludeBlock(const std::string &Content) {
  return Content.compare(includeBlockOffset(Content), std::strlen(IncludeBlock), IncludeBlock) == 0;
}

namespace {

/// Length of `SCOPEPROF_FN(0x..., "sig", "file", line, kinds);` starting at \p I (just after
/// the leading space), or 0 if the text there is not exactly what the rewriter writes.
size_t scopeLength(const std::string &S, size_t I) {
  size_t J = I;
  auto Lit = [&](const char *T) {
    size_t N = std::strlen(T);
    if (S.compare(J, N, T) != 0)
      return false;
    J += N;
    return true;
  };
  auto Digits = [&](bool Hex) {
    size_t Start = J;
    while (J < S.size() && (Hex ? std::isxdigit(static_cast<unsigned char>(S[J])) != 0
                                : std::isdigit(static_cast<unsigned char>(S[J])) != 0))
      ++J;
    return J > Start;
  };
  auto String = [&] {
    if (J >= S.size() || S[J] != '"')
      return false;
    for (++J; J < S.size() && S[J] != '"' && S[J] != '\n'; ++J)
      if (S[J] == '\\')
        ++J;
    if (J >= S.size() || S[J] != '"')
      return false;
    ++J;
    return true;
  };
  if (Lit("SCOPEPROF_FN(0x") && Digits(true) && Lit(", ") && String() && Lit(", ") && String() &&
      Lit(", ") && Digits(false) && Lit(", ") && Digits(false) && Lit(");"))
    return J - I;
  return 0;
}

} // namespace

std::string stripInstrumentation(const std::string &Content, unsigned &Removed) {
  Removed = 0;
  std::string Out;
  size_t Pos = 0;
  if (hasIncludeBlock(Content)) {
    Out.append(Content, 0, includeBlockOffset(Content));
    Pos = includeBlockOffset(Content) + std::strlen(IncludeBlock);
    ++Removed;
  }
  for (;;) {
    size_t Hit = Content.find(ScopePrefix, Pos);
    if (Hit == std::string::npos)
      break;
    size_t Len = scopeLength(Content, Hit + 1);
    Out.append(Content, Pos, Hit - Pos);
    if (Len == 0) {
      Out += Content[Hit];
      Pos = Hit + 1;
      continue;
    }
    Pos = Hit + 1 + Len;
    ++Removed;
  }
  Out.append(Content, Pos, std::string::npos);
  return Out;
}

bool readFile(const std::string &Path, std::string &Content, std::string &Error) {
  int Fd = open(Path.c_str(), O_RDONLY | O_CLOEXEC);
  if (Fd < 0) {
    Error = "cannot read '" + Path + "': " + std::strerror(errno);
    return false;
  }
  Content.clear();
  char Buf[65536];
  ssize_t N;
  while ((N = read(Fd, Buf, sizeof(Buf))) > 0)
    Content.append(Buf, static_cast<size_t>(N));
  int Saved = errno;
  close(Fd);
  if (N < 0) {
    Error = "cannot read '" + Path + "': " + std::strerror(Saved);
    return false;
  }
  return true;
}

bool writeFileAtomically(const std::string &Path, const std::string &Content, std::string &Error) {
  struct stat St;
  mode_t Mode = 0644;
  if (stat(Path.c_str(), &St) == 0) {
    Mode = St.st_mode & 07777;
    // Mode bits, not access(): root may write anything, but a read-only file says "keep out".
    if ((Mode & 0222) == 0 || access(Path.c_str(), W_OK) != 0) {
      Error = "cannot write '" + Path + "': the file is read-only";
      return false;
    }
  }
  std::string Temp = Path + ".scopeprof-tmp-XXXXXX";
  int Fd = mkstemp(Temp.data());
  if (Fd < 0) {
    Error = "cannot write '" + Path + "': " + std::strerror(errno);
    return false;
  }
  const char *P = Content.data();
  size_t Left = Content.size();
  while (Left > 0) {
    ssize_t N = write(Fd, P, Left);
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0) {
      Error = "cannot write '" + Path + "': " + std::strerror(errno);
      close(Fd);
      unlink(Temp.c_str());
      return false;
    }
    P += N;
    Left -= static_cast<size_t>(N);
  }
  fchmod(Fd, Mode);
  if (close(Fd) != 0 || rename(Temp.c_str(), Path.c_str()) != 0) {
    Error = "cannot write '" + Path + "': " + std::strerror(errno);
    unlink(Temp.c_str());
    return false;
  }
  return true;
}

namespace {

std::vector<std::string> splitLines(const std::string &S) {
  std::vector<std::string> Lines;
  std::istringstream In(S);
  for (std::string L; std::getline(In, L);)
    Lines.push_back(L);
  return Lines;
}

} // namespace

std::string unifiedDiff(const std::string &Label, const std::string &Before, const std::string &After) {
  if (Before == After)
    return "";
  // A rewrite adds the include block's lines at the top and edits lines in place; strip does
  // the reverse. So lines pair up one to one after that block: no general diff is needed.
  std::vector<std::string> A = splitLines(Before), B = splitLines(After);
  struct Op {
    char Kind;
    size_t I, J;
  };
  std::vector<Op> Ops;
  size_t BlockLines = 0;
  for (const char *C = IncludeBlock; *C; ++C)
    BlockLines += *C == '\n';
  size_t I = 0, J = 0;
  bool Added = After.compare(0, std::strlen(IncludeBlock), IncludeBlock) == 0 &&
               Before.compare(0, std::strlen(IncludeBlock), IncludeBlock) != 0;
  bool Removed = Before.compare(0, std::strlen(IncludeBlock), IncludeBlock) == 0 &&
                 After.compare(0, std::strlen(IncludeBlock), IncludeBlock) != 0;
  for (; Added && J < BlockLines && J < B.size(); ++J)
    Ops.push_back({'+', I, J});
  for (; Removed && I < BlockLines && I < A.size(); ++I)
    Ops.push_back({'-', I, J});
  if (A.size() - I == B.size() - J) {
    for (; I < A.size(); ++I, ++J) {
      if (A[I] == B[J]) {
        Ops.push_back({' ', I, J});
      } else {
        Ops.push_back({'-', I, J});
        Ops.push_back({'+', I, J});
      }
    }
  } else {
    for (; I < A.size(); ++I)
      Ops.push_back({'-', I, J});
    for (; J < B.size(); ++J)
      Ops.push_back({'+', I, J});
  }
  std::ostringstream Out;
  Out << "--- a/" << Label << "\n+++ b/" << Label << "\n";
  const size_t Context = 3;
  size_t K = 0;
  while (K < Ops.size()) {
    if (Ops[K].Kind == ' ') {
      ++K;
      continue;
    }
    // A hunk: from Context lines before this change to Context lines after the last change
    // that follows within 2 * Context unchanged lines.
    size_t Start = K > Context ? K - Context : 0;
    size_t LastChange = K;
    for (size_t X = K + 1; X < Ops.size() && X <= LastChange + 2 * Context + 1; ++X)
      if (Ops[X].Kind != ' ')
        LastChange = X;
    size_t End = std::min(Ops.size(), LastChange + Context + 1);
    size_t OldCount = 0, NewCount = 0;
    for (size_t X = Start; X < End; ++X) {
      OldCount += Ops[X].Kind != '+';
      NewCount += Ops[X].Kind != '-';
    }
    Out << "@@ -" << Ops[Start].I + 1 << "," << OldCount << " +" << Ops[Start].J + 1 << ","
        << NewCount << " @@\n";
    for (size_t X = Start; X < End; ++X)
      Out << Ops[X].Kind << (Ops[X].Kind == '+' ? B[Ops[X].J] : A[Ops[X].I]) << "\n";
    K = End;
  }
  return Out.str();
}

} // namespace scopeprof::rewrite
