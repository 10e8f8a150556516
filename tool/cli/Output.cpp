// Table rendering for the console, spreadsheets, scripts and pull-request comments.
#include "Output.h"

#include "Args.h"
#include "Sqlite.h"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sys/ioctl.h>
#include <unistd.h>
#include <zlib.h>

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

Cell Cell::code(std::string V) {
  Cell C = text(std::move(V));
  C.Code = true;
  return C;
}

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

Table functionTable() {
  Table T;
  T.Columns = {"function", "calls", "total",  "self", "mean", "± sd",
               "p95",      "max",   "% time", "file", "note"};
  T.Keys = {"function", "calls",  "total_ns",     "self_ns", "mean_ns", "stddev_ns",
            "p95_ns",   "max_ns", "percent_time", "file",    "note"};
  T.RightAligned = {false, true, true, true, true, true, true, true, true, false, false};
  T.Shrinkable = {10, 9, 0};
  return T;
}

std::string formatBytes(double Bytes) {
  if (Bytes < 1024)
    return fmt::format("{:.0f} B", Bytes);
  if (Bytes < 1024.0 * 1024)
    return fmt::format("{:.3g} KiB", Bytes / 1024);
  if (Bytes < 1024.0 * 1024 * 1024)
    return fmt::format("{:.3g} MiB", Bytes / (1024.0 * 1024));
  return fmt::format("{:.3g} GiB", Bytes / (1024.0 * 1024 * 1024));
}

std::string formatPercent(double Pct) { return fmt::format("{:+.1f}%", Pct); }

namespace {

/// The length of the valid UTF-8 sequence at \p I of \p S, 0 if there is none (a stray
/// continuation byte, an overlong form, a surrogate, beyond U+10FFFF, a truncated sequence).
size_t utf8Length(const std::string &S, size_t I) {
  auto Byte = [&](size_t K) { return static_cast<unsigned char>(S[K]); };
  unsigned char C = Byte(I);
  size_t N = C < 0x80             ? 1
             : (C & 0xE0) == 0xC0 ? 2
             : (C & 0xF0) == 0xE0 ? 3
             : (C & 0xF8) == 0xF0 ? 4
                                  : 0;
  if (N == 0 || I + N > S.size())
    return 0;
  uint32_t Code = N == 1 ? C : C & (0x7F >> N);
  for (size_t K = 1; K < N; ++K) {
    if ((Byte(I + K) & 0xC0) != 0x80)
      return 0;
    Code = (Code << 6) | (Byte(I + K) & 0x3F);
  }
  static constexpr uint32_t Min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (Code < Min[N] || Code > 0x10FFFF || (Code >= 0xD800 && Code <= 0xDFFF))
    return 0;
  return N;
}

} // namespace

std::string printable(const std::string &S) {
  std::string Out;
  for (size_t I = 0; I < S.size(); ++I) {
    auto C = static_cast<unsigned char>(S[I]);
    // C1 controls (U+0080..U+009F) act on terminals too: CSI is U+009B.
    bool C1 = C == 0xC2 && I + 1 < S.size() && static_cast<unsigned char>(S[I + 1]) < 0xA0 &&
              static_cast<unsigned char>(S[I + 1]) >= 0x80;
    if (C == '\n')
      Out += "\\n";
    else if (C == '\t')
      Out += "\\t";
    else if (C < 0x20 || C == 0x7F)
      Out += fmt::format("\\x{:02x}", C);
    else if (C1)
      Out += fmt::format("\\u{:04x}", static_cast<unsigned char>(S[++I]));
    else
      Out += static_cast<char>(C);
  }
  return Out;
}

std::string jsonString(const std::string &S) {
  std::string Out = "\"";
  for (size_t I = 0; I < S.size(); ++I) {
    auto C = static_cast<unsigned char>(S[I]);
    if (C >= 0x80) {
      // JSON is UTF-8: a byte that is not part of a valid sequence becomes U+FFFD.
      size_t N = utf8Length(S, I);
      if (N == 0) {
        Out += "\\ufffd";
      } else {
        Out.append(S, I, N);
        I += N - 1;
      }
      continue;
    }
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
      Widths[C] = std::max(Widths[C], width(printable(Row[C].Display)));
  }
  int Terminal = terminalWidth();
  size_t Total = 0;
  for (size_t W : Widths)
    Total += W + 2;
  // Narrow the shrinkable columns in their order, each down to a readable minimum.
  constexpr size_t MinWidth = 16;
  for (size_t C : T.Shrinkable) {
    if (Terminal <= 0 || Total <= static_cast<size_t>(Terminal))
      break;
    size_t Cut = std::min(Total - static_cast<size_t>(Terminal), Widths[C] - std::min(Widths[C], MinWidth));
    Widths[C] -= Cut;
    Total -= Cut;
  }
  auto right = [&](size_t C) { return C < T.RightAligned.size() && T.RightAligned[C]; };
  std::string Line;
  for (size_t C = 0; C < N; ++C)
    Line += (C ? "  " : "") + pad(T.Columns[C], Widths[C], right(C));
  fmt::print("{}\n", Line.substr(0, Line.find_last_not_of(' ') + 1));
  for (const auto &Row : T.Rows) {
    Line.clear();
    for (size_t C = 0; C < N; ++C)
      Line +=
          (C ? "  " : "") + pad(shorten(printable(Row[C].Display), Widths[C]), Widths[C], right(C));
    fmt::print("{}\n", Line.substr(0, Line.find_last_not_of(' ') + 1));
  }
}

/// GitHub-style renderers read `<...>` as HTML or an autolink, `*`, `_` and `~` as emphasis and
/// `[...]` as a link, so std::vector<std::string> would lose its template argument: the
/// characters that start inline markup are backslash-escaped (any ASCII punctuation may be).
/// Lines stay apart as <br>, the one tag a table cell can hold.
std::string markdownText(const std::string &S) {
  std::string Out;
  size_t Begin = 0;
  while (true) {
    size_t End = S.find('\n', Begin);
    for (char C : printable(S.substr(Begin, End == std::string::npos ? End : End - Begin))) {
      if (std::strchr("\\`*_[]<>|~&", C))
        Out += '\\';
      Out += C;
    }
    if (End == std::string::npos)
      return Out;
    Out += "<br>";
    Begin = End + 1;
  }
}

/// A code span: nothing inside is markup. Its fence is one backtick longer than any run of
/// backticks in the name; '|' still ends a table cell unless escaped (GFM).
std::string markdownCode(const std::string &S) {
  std::string Body;
  size_t Run = 0, Longest = 0;
  for (char C : printable(S)) {
    Run = C == '`' ? Run + 1 : 0;
    Longest = std::max(Longest, Run);
    Body += C == '|' ? std::string("\\|") : std::string(1, C);
  }
  if (Body.empty())
    return "";
  std::string Fence(Longest + 1, '`');
  bool Pad = Body.front() == '`' || Body.back() == '`';
  return Fence + (Pad ? " " : "") + Body + (Pad ? " " : "") + Fence;
}

std::string markdownCell(const Cell &V) {
  return V.Code ? markdownCode(V.Display) : markdownText(V.Display);
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
      Header += " " + markdownText(T.Columns[C]) + " |";
      Rule += C < T.RightAligned.size() && T.RightAligned[C] ? " ---: |" : " --- |";
    }
    fmt::print("{}\n{}\n", Header, Rule);
    for (const auto &Row : T.Rows) {
      std::string Line = "|";
      for (const auto &V : Row)
        Line += " " + markdownCell(V) + " |";
      fmt::print("{}\n", Line);
    }
    return;
  }
  }
}

namespace {

/// How messages name an output: "standard output" for "-", else the quoted path.
std::string outputName(const std::string &Path) {
  return Path == "-" ? "standard output" : "'" + Path + "'";
}

} // namespace

int reportFailure(const db::DbError &E) {
  printError("{}", E.what());
  return dynamic_cast<const db::InputError *>(&E) ? ExitUsage : ExitFailure;
}

struct OutputFile::Gzip {
  z_stream Stream{};
  ~Gzip() { deflateEnd(&Stream); }
};

namespace {

bool endsWith(const std::string &S, std::string_view Suffix) {
  return S.size() >= Suffix.size() &&
         S.compare(S.size() - Suffix.size(), Suffix.size(), Suffix) == 0;
}

} // namespace

OutputFile::OutputFile(std::string Path) : Path(std::move(Path)) {
  if (this->Path == "-") {
    File = stdout;
    return;
  }
  Temp = this->Path + ".tmp-" + std::to_string(getpid());
  File = std::fopen(Temp.c_str(), "w");
  if (!File)
    fail(errno);
  if (endsWith(this->Path, ".gz")) {
    Zip = std::make_unique<Gzip>();
    // windowBits 15 + 16: a gzip header and trailer rather than a bare zlib stream.
    if (deflateInit2(&Zip->Stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
      fail(ENOMEM);
  }
}

OutputFile::~OutputFile() {
  if (File && File != stdout) {
    std::fclose(File);
    std::remove(Temp.c_str());
  }
}

void OutputFile::fail(int Errno) {
  if (File && File != stdout)
    std::fclose(File);
  if (File != stdout && !Temp.empty())
    std::remove(Temp.c_str());
  File = nullptr;
  throw db::DbError("cannot write " + outputName(Path) + ": " + std::strerror(Errno));
}

void OutputFile::writeRaw(const void *Data, size_t Size) {
  if (std::fwrite(Data, 1, Size, File) != Size)
    fail(errno);
}

void OutputFile::write(std::string_view Text) {
  if (!Zip)
    return writeRaw(Text.data(), Text.size());
  Pending += Text;
  if (Pending.size() >= (1 << 16))
    deflatePending(false);
}

void OutputFile::deflatePending(bool Finish) {
  z_stream &Z = Zip->Stream;
  Z.next_in = reinterpret_cast<Bytef *>(Pending.data());
  Z.avail_in = static_cast<uInt>(Pending.size());
  unsigned char Buffer[1 << 16];
  int Status;
  do {
    Z.next_out = Buffer;
    Z.avail_out = sizeof(Buffer);
    Status = deflate(&Z, Finish ? Z_FINISH : Z_NO_FLUSH);
    if (Status == Z_STREAM_ERROR)
      fail(EIO);
    writeRaw(Buffer, sizeof(Buffer) - Z.avail_out);
  } while (Z.avail_out == 0 || (Finish && Status != Z_STREAM_END));
  Pending.clear();
}

void OutputFile::commit() {
  if (File == stdout) {
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
      fail(errno);
    return;
  }
  if (Zip)
    deflatePending(true);
  if (std::fflush(File) != 0 || std::ferror(File) || fsync(fileno(File)) != 0)
    fail(errno);
  int Closed = std::fclose(File);
  File = nullptr;
  if (Closed != 0 || std::rename(Temp.c_str(), Path.c_str()) != 0) {
    int Errno = errno;
    std::remove(Temp.c_str());
    throw db::DbError("cannot write " + outputName(Path) + ": " + std::strerror(Errno));
  }
}

} // namespace scopeprof::cli
