// Table rendering for the console, spreadsheets, scripts and pull-request comments.
#include "Output.h"

#include "Sqlite.h"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <sys/ioctl.h>
#include <unistd.h>

namespace scopeprof::cli {

std::optional<Format> parseFormat(const std::string &Name) {
  if (Name == "table")
    return Format::Table;
  if (Name == "csv")
    return Format::Csv;
  if (Name == "json")
    return Format::Json;
  if (Name == "markdown")
    return Format::Markdown;
  return std::nullopt;
}

Cell Cell::integer(int64_t V, std::string Display) {
  std::string Raw = std::to_string(V);
  return {Integer, Raw, Display.empty() ? Raw : std::move(Display)};
}

Cell Cell::real(double V, std::string Display) {
  if (!std::isfinite(V))
    return {};
  std::string Raw = fmt::format("{}", V);
  return {Real, Raw, Display.empty() ? fmt::format("{:.6g}", V) : std::move(Display)};
}

Cell Cell::text(std::string V) { return {Text, V, V}; }

std::string formatDuration(double Ns) {
  double A = std::fabs(Ns);
  if (A < 1e3)
    return fmt::format("{:.0f} ns", Ns);
  if (A < 1e6)
    return fmt::format("{:.3g} us", Ns / 1e3);
  if (A < 1e9)
    return fmt::format("{:.3g} ms", Ns / 1e6);
  return fmt::format("{:.3g} s", Ns / 1e9);
}

std::string formatPercent(double Pct) { return fmt::format("{:+.1f}%", Pct); }

std::string jsonString(const std::string &S) {
  std::string Out = "\"";
  for (unsigned char C : S) {
    switch (C) {
    case '"':
      Out += "\\\"";
      break;
    case '\\':
      Out += "\\\\";
      break;
    case '\n':
      Out += "\\n";
      break;
    case '\r':
      Out += "\\r";
      break;
    case '\t':
      Out += "\\t";
      break;
    default:
      if (C < 0x20)
        Out += fmt::format("\\u{:04x}", C);
      else
        Out += static_cast<char>(C);
    }
  }
  return Out + "\"";
}

std::string csvField(const std::string &S) {
  if (S.find_first_of(",\"\r\n") == std::string::npos)
    return S;
  std::string Out = "\"";
  for (char C : S)
    Out += C == '"' ? std::string("\"\"") : std::string(1, C);
  return Out + "\"";
}

int terminalWidth() {
  winsize W{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &W) == 0 && W.ws_col > 0)
    return W.ws_col;
  if (const char *Columns = std::getenv("COLUMNS"))
    return std::atoi(Columns);
  return 0;
}

namespace {

/// Display width in code points (names are UTF-8; multi-byte sequences count once).
size_t width(const std::string &S) {
  return static_cast<size_t>(std::count_if(
      S.begin(), S.end(), [](char C) { return (static_cast<unsigned char>(C) & 0xC0) != 0x80; }));
}

std::string shorten(const std::string &S, size_t Max) {
  if (width(S) <= Max)
    return S;
  if (Max <= 3)
    return S.substr(0, Max);
  // Keep the end: for qualified names the function and its parameters matter most.
  size_t Skip = width(S) - (Max - 3), I = 0, Seen = 0;
  for (; I < S.size(); ++I) {
    if ((static_cast<unsigned char>(S[I]) & 0xC0) == 0x80)
      continue;
    if (Seen++ == Skip)
      break;
  }
  return "..." + S.substr(I);
}

std::string pad(const std::string &S, size_t Width, bool Right) {
  size_t W = width(S);
  std::string Fill(W < Width ? Width - W : 0, ' ');
  return Right ? Fill + S : S + Fill;
}

void printConsole(const Table &T) {
  size_t N = T.Columns.size();
  std::vector<size_t> Widths(N);
  for (size_t C = 0; C < N; ++C) {
    Widths[C] = width(T.Columns[C]);
    for (const auto &Row : T.Rows)
      Widths[C] = std::max(Widths[C], width(Row[C].Display));
  }
  int Terminal = terminalWidth();
  size_t Total = 0;
  for (size_t W : Widths)
    Total += W + 2;
  // Narrow the widest shrinkable column, one character at a time, down to a readable minimum.
  constexpr size_t MinWidth = 16;
  while (Terminal > 0 && Total > static_cast<size_t>(Terminal)) {
    size_t *Widest = nullptr;
    for (size_t C : T.Shrinkable)
      if (Widths[C] > MinWidth && (!Widest || Widths[C] > *Widest))
        Widest = &Widths[C];
    if (!Widest)
      break;
    --*Widest;
    --Total;
  }
  auto right = [&](size_t C) { return C < T.RightAligned.size() && T.RightAligned[C]; };
  std::string Line;
  for (size_t C = 0; C < N; ++C)
    Line += (C ? "  " : "") + pad(T.Columns[C], Widths[C], right(C));
  fmt::print("{}\n", Line.substr(0, Line.find_last_not_of(' ') + 1));
  for (const auto &Row : T.Rows) {
    Line.clear();
    for (size_t C = 0; C < N; ++C)
      Line += (C ? "  " : "") + pad(shorten(Row[C].Display, Widths[C]), Widths[C], right(C));
    fmt::print("{}\n", Line.substr(0, Line.find_last_not_of(' ') + 1));
  }
}

std::string markdownCell(const std::string &S) {
  std::string Out;
  for (char C : S) {
    if (C == '|')
      Out += "\\|";
    else if (C == '\n')
      Out += "<br>";
    else
      Out += C;
  }
  return Out;
}

} // namespace

void printTable(const Table &T, Format F) {
  const auto &Keys = T.Keys.empty() ? T.Columns : T.Keys;
  switch (F) {
  case Format::Table:
    printConsole(T);
    return;
  case Format::Csv: {
    for (size_t C = 0; C < Keys.size(); ++C)
      fmt::print("{}{}", C ? "," : "", csvField(Keys[C]));
    fmt::print("\n");
    for (const auto &Row : T.Rows) {
      for (size_t C = 0; C < Row.size(); ++C)
        fmt::print("{}{}", C ? "," : "", csvField(Row[C].Raw));
      fmt::print("\n");
    }
    return;
  }
  case Format::Json: {
    fmt::print("[");
    for (size_t R = 0; R < T.Rows.size(); ++R) {
      fmt::print("{}\n  {{", R ? "," : "");
      for (size_t C = 0; C < T.Columns.size(); ++C) {
        const Cell &V = T.Rows[R][C];
        std::string Value = V.Type == Cell::Null   ? "null"
                            : V.Type == Cell::Text ? jsonString(V.Raw)
                                                   : V.Raw;
        fmt::print("{}{}: {}", C ? ", " : "", jsonString(Keys[C]), Value);
      }
      fmt::print("}}");
    }
    fmt::print("{}]\n", T.Rows.empty() ? "" : "\n");
    return;
  }
  case Format::Markdown: {
    std::string Header = "|", Rule = "|";
    for (size_t C = 0; C < T.Columns.size(); ++C) {
      Header += " " + markdownCell(T.Columns[C]) + " |";
      Rule += C < T.RightAligned.size() && T.RightAligned[C] ? " ---: |" : " --- |";
    }
    fmt::print("{}\n{}\n", Header, Rule);
    for (const auto &Row : T.Rows) {
      std::string Line = "|";
      for (const auto &V : Row)
        Line += " " + markdownCell(V.Display) + " |";
      fmt::print("{}\n", Line);
    }
    return;
  }
  }
}

OutputFile::OutputFile(std::string Path) : Path(std::move(Path)) {
  if (this->Path == "-") {
    File = stdout;
    return;
  }
  Temp = this->Path + ".tmp-" + std::to_string(getpid());
  File = std::fopen(Temp.c_str(), "w");
  if (!File)
    throw db::DbError("cannot write '" + this->Path + "': " + std::strerror(errno));
}

OutputFile::~OutputFile() {
  if (File && File != stdout) {
    std::fclose(File);
    std::remove(Temp.c_str());
  }
}

void OutputFile::commit() {
  if (File == stdout) {
    std::fflush(stdout);
    return;
  }
  bool Ok = std::ferror(File) == 0;
  Ok = (std::fclose(File) == 0) && Ok;
  File = nullptr;
  if (!Ok || std::rename(Temp.c_str(), Path.c_str()) != 0) {
    std::string Reason = std::strerror(errno);
    std::remove(Temp.c_str());
    throw db::DbError("cannot write '" + Path + "': " + Reason);
  }
}

} // namespace scopeprof::cli
