// `scopeprof query DB "SQL"`: any SQL question, answered in the report formats.
#include "Args.h"
#include "Commands.h"
#include "Output.h"

#include "Schema.h"

#include <fmt/core.h>

#include <iostream>
#include <iterator>

namespace scopeprof::cli {
namespace {

constexpr const char *Usage = "usage: scopeprof query [--format table|csv|json|markdown] DB [SQL]  "
                              " (SQL from stdin when absent)\n";

Cell cellOf(const db::Statement &S, int I) {
  switch (S.type(I)) {
  case SQLITE_INTEGER:
    return Cell::integer(S.integer(I));
  case SQLITE_FLOAT:
    return Cell::real(S.real(I));
  case SQLITE_NULL:
    return Cell::null();
  default:
    return Cell::text(S.text(I));
  }
}

} // namespace

int runQuery(const std::vector<std::string> &Argv) {
  int Exit;
  auto Args = parseCommand(
      Argv, {{"--format", true}}, Usage,
      "\nThe database is opened read-only; docs/schema.md describes its tables.\n", Exit);
  if (!Args)
    return Exit;
  auto F = parseFormat(Args->value("--format").value_or("table"));
  if (!F)
    return usageError(fmt::format("unknown format '{}'", *Args->value("--format")), Usage);
  if (Args->Positional.empty() || Args->Positional.size() > 2)
    return usageError("'query' needs a database and at most one SQL statement", Usage);
  std::string Sql = Args->Positional.size() == 2
                        ? Args->Positional[1]
                        : std::string(std::istreambuf_iterator<char>(std::cin), {});
  try {
    auto Db = db::openForRead(Args->Positional[0]);
    auto S = Db->prepareQuery(Sql);
    Table T;
    for (int I = 0; I < S.columns(); ++I)
      T.Columns.push_back(S.columnName(I));
    while (S.step()) {
      std::vector<Cell> Row;
      for (int I = 0; I < S.columns(); ++I)
        Row.push_back(cellOf(S, I));
      T.Rows.push_back(std::move(Row));
    }
    for (int I = 0; I < S.columns(); ++I)
      T.RightAligned.push_back(!T.Rows.empty() &&
                               (T.Rows[0][static_cast<size_t>(I)].Type == Cell::Integer ||
                                T.Rows[0][static_cast<size_t>(I)].Type == Cell::Real));
    printTable(T, *F);
    return ExitOk;
  } catch (const db::DbError &E) {
    return reportFailure(E);
  }
}

} // namespace scopeprof::cli
