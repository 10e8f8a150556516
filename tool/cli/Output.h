// Output shared by the commands: tables (an aligned console table that fits the terminal, CSV
// (RFC 4180), JSON (an array of objects) and Markdown), and files written all or nothing.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scopeprof::db {
class DbError;
}

namespace scopeprof::cli {

/// Prints \p E; returns the exit status it calls for: 2 when the database or a run named in
/// the arguments cannot be used, 1 when the work failed.
int reportFailure(const db::DbError &E);

enum class Format { Table, Csv, Json, Markdown };

/// Parses "table|csv|json|markdown"; nullopt for anything else.
std::optional<Format> parseFormat(const std::string &Name);

/// A value with its machine form (CSV, JSON) and its human form (table, Markdown).
struct Cell {
  enum Kind { Null, Integer, Real, Text } Type = Null;
  std::string Raw;     ///< as written to CSV and JSON
  std::string Display; ///< as shown to people

  static Cell null() { return {}; }
  static Cell integer(int64_t V, std::string Display = "");
  static Cell real(double V, std::string Display = "");
  static Cell text(std::string V);
  /// A name from the program (a function, a file): code-quoted in Markdown.
  static Cell code(std::string V);

  bool Code = false;
};

struct Table {
  std::vector<std::string> Columns;
  std::vector<std::string> Keys;  ///< machine names for CSV and JSON; defaults to Columns
  std::vector<bool> RightAligned; ///< per column; defaults to left
  std::vector<std::vector<Cell>> Rows;
  /// Columns that may be shortened (with "...") when a console table is wider than the terminal,
  /// the least important first: each is narrowed to a readable minimum before the next.
  std::vector<size_t> Shrinkable;
};

/// Writes to a temporary file next to the target and renames it into place on success, so a
/// failed write never leaves a half-written file behind. "-" is stdout. A path ending in
/// ".gz" is written gzip-compressed. Every failure (a full disk included) is a db::DbError
/// naming the target; the temporary file is removed.
class OutputFile {
public:
  explicit OutputFile(std::string Path);
  ~OutputFile();
  template <typename... T> void print(fmt::format_string<T...> Format, T &&...Args) {
    write(fmt::format(Format, std::forward<T>(Args)...));
  }
  void write(std::string_view Text);
  void commit();

private:
  [[noreturn]] void fail(int Errno);
  void writeRaw(const void *Data, size_t Size);
  /// Compresses what is pending; \p Finish ends the gzip stream.
  void deflatePending(bool Finish);

  struct Gzip;
  std::string Path, Temp;
  FILE *File = nullptr;
  std::unique_ptr<Gzip> Zip; ///< set when writing gzip
  std::string Pending;       ///< gzip input not yet compressed: deflate works in large blocks
};

/// Writes \p T to stdout in \p F.
void printTable(const Table &T, Format F);

/// "812 ns", "1.23 us", "45.6 ms", "2.31 s".
std::string formatDuration(double Ns);
/// The columns of the bottleneck table `report` and `ctl results` print (the same JSON keys),
/// before any optional ones; no rows.
Table functionTable();

/// 512 B, 3.5 KiB, 12 MiB, 1.2 GiB.
std::string formatBytes(double Bytes);
/// A signed percentage, "+12.3%".
std::string formatPercent(double Pct);

/// \p S with control characters escaped (\n, \x1b, \u009b): names and messages come from
/// the programs profiled, and must not drive the terminal that shows them.
std::string printable(const std::string &S);

/// JSON string literal (quotes included), valid UTF-8 whatever \p S holds.
std::string jsonString(const std::string &S);
/// A CSV field, quoted when needed.
std::string csvField(const std::string &S);

/// Width of the terminal on stdout; 0 when stdout is not a terminal and COLUMNS is unset.
int terminalWidth();

} // namespace scopeprof::cli
