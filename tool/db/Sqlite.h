// A thin RAII layer over the SQLite C API: a connection, prepared statements, transactions.
// Errors are exceptions (DbError) because every caller reports them the same way and gives up.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scopeprof::db {

class DbError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The input named on the command line cannot be used: a database that is absent, not SQLite,
/// not ours or of another version, a run it does not hold. Commands exit with status 2 for
/// it, as for bad arguments (docs/cli.md).
class InputError : public DbError {
public:
  using DbError::DbError;
};

class Statement;

/// The directory holding \p Path ("." for a bare name).
std::string directoryOf(const std::string &Path);

class Database {
public:
  /// Immutable: read-only without the -shm file a WAL database needs (its directory is
  /// read-only); correct only when nothing writes to it meanwhile.
  enum class Mode { ReadOnly, ReadOnlyImmutable, ReadWrite };
  /// Opens (ReadWrite: creates) \p Path; throws DbError naming the file. Another process
  /// holding the database makes every statement wait, saying so on stderr after a second.
  Database(const std::string &Path, Mode M);
  ~Database();
  Database(const Database &) = delete;
  Database &operator=(const Database &) = delete;

  void exec(std::string_view Sql);
  Statement prepare(std::string_view Sql);
  /// Exactly one statement that only reads; DbError for more than one, or one that writes.
  Statement prepareQuery(std::string_view Sql);
  int64_t lastInsertId() const { return sqlite3_last_insert_rowid(Handle); }
  sqlite3 *handle() const { return Handle; }
  const std::string &path() const { return Path; }
  [[noreturn]] void fail(std::string_view What) const;

private:
  static int busy(void *Self, int Count);

  sqlite3 *Handle = nullptr;
  std::string Path;
  bool SaidWaiting = false;
};

class Statement {
public:
  /// Compiles the first statement of \p Sql; \p Rest (if given) receives what follows it.
  Statement(Database &Db, std::string_view Sql, std::string_view *Rest = nullptr);
  ~Statement() { sqlite3_finalize(Stmt); }
  Statement(Statement &&O) noexcept : Db(O.Db), Stmt(O.Stmt) { O.Stmt = nullptr; }
  Statement(const Statement &) = delete;

  Statement &bind(int Index, int64_t V);
  Statement &bind(int Index, uint64_t V) { return bind(Index, static_cast<int64_t>(V)); }
  Statement &bind(int Index, int V) { return bind(Index, static_cast<int64_t>(V)); }
  Statement &bind(int Index, unsigned V) { return bind(Index, static_cast<int64_t>(V)); }
  Statement &bind(int Index, double V);
  Statement &bind(int Index, std::string_view V);
  Statement &bind(int Index, const char *V) { return bind(Index, std::string_view(V)); }
  Statement &bind(int Index, const std::string &V) { return bind(Index, std::string_view(V)); }
  Statement &bindNull(int Index);

  /// Advances to the next row; false when done.
  bool step();
  /// Runs a statement that returns no rows, then resets it for reuse.
  void run();
  void reset();

  int columns() const { return sqlite3_column_count(Stmt); }
  bool readOnly() const { return sqlite3_stmt_readonly(Stmt) != 0; }
  std::string columnName(int I) const { return sqlite3_column_name(Stmt, I); }
  int type(int I) const { return sqlite3_column_type(Stmt, I); }
  bool isNull(int I) const { return type(I) == SQLITE_NULL; }
  int64_t integer(int I) const { return sqlite3_column_int64(Stmt, I); }
  double real(int I) const { return sqlite3_column_double(Stmt, I); }
  std::string text(int I) const;

private:
  Database &Db;
  sqlite3_stmt *Stmt = nullptr;
};

/// BEGIN IMMEDIATE on construction; ROLLBACK unless commit() was called.
class Transaction {
public:
  explicit Transaction(Database &Db) : Db(Db) { Db.exec("BEGIN IMMEDIATE"); }
  ~Transaction();
  void commit();

private:
  Database &Db;
  bool Done = false;
};

} // namespace scopeprof::db
