// Output shared by the commands: tables (an aligned console table that fits the terminal, CSV
// (RFC 4180), JSON (an array of objects) and Markdown), and files written all or nothing.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace scopeprof::cli {

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
};

struct Table {
  std::vector<std::string> Columns;
  std::vector<std::string> Keys;  ///< machine names for CSV and JSON; defaults to Columns
  std::vector<bool> RightAligned; ///< per column; defaults to left
  std::vector<std::vector<Cell>> Rows;
  /// Columns that may be shortened (with "...") when a console table is wider than the terminal.
  std::vector<size_t> Shrinkable;
};

/// Writes to a temporary file next to the target and renames it into place on success, so a
/// failed write never leaves a half-written file behind. "-" is stdout. Throws db::DbError.
class OutputFile {
public:
  explicit OutputFile(std::string Path);
  ~OutputFile();
  template <typename... T> void print(fmt::format_string<T...> Format, T &&...Args) {
    fmt::print(File, Format, std::forward<T>(Args)...);
  }
  void commit();

private:
  std::string Path, Temp;
  FILE *File = nullptr;
};

/// Writes \p T to stdout in \p F.
void printTable(const Table &T, Format F);

/// "812 ns", "1.23 us", "45.6 ms", "2.31 s".
std::string formatDuration(double Ns);
/// A signed percentage, "+12.3%".
std::string formatPercent(double Pct);

/// JSON string literal (quotes included).
std::string jsonString(const std::string &S);
/// A CSV field, quoted when needed.
std::string csvField(const std::string &S);

/// Width of the terminal on stdout; 0 when stdout is not a terminal and COLUMNS is unset.
int terminalWidth();

} // namespace scopeprof::cli
