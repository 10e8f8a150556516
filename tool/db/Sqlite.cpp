// The SQLite RAII layer: every failure becomes a DbError that names the database file.
#include "Sqlite.h"

namespace scopeprof::db {

Database::Database(const std::string &Path, Mode M) : Path(Path) {
  int Flags =
      M == Mode::ReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(Path.c_str(), &Handle, Flags, nullptr) != SQLITE_OK) {
    std::string Message = Handle ? sqlite3_errmsg(Handle) : "out of memory";
    sqlite3_close(Handle);
    Handle = nullptr;
    throw DbError("cannot open database '" + Path + "': " + Message);
  }
  sqlite3_extended_result_codes(Handle, 1);
  // Another scopeprof may be loading into the same file: wait for it rather than fail.
  sqlite3_busy_timeout(Handle, 10000);
}

Database::~Database() { sqlite3_close_v2(Handle); }

void Database::fail(std::string_view What) const {
  throw DbError("database '" + Path + "': " + std::string(What) + ": " + sqlite3_errmsg(Handle));
}

void Database::exec(std::string_view Sql) {
  std::string Text(Sql);
  if (sqlite3_exec(Handle, Text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    fail("cannot run '" + Text.substr(0, 60) + "'");
}

Statement Database::prepare(std::string_view Sql) { return Statement(*this, Sql); }

Statement::Statement(Database &Db, std::string_view Sql) : Db(Db) {
  if (sqlite3_prepare_v2(Db.handle(), Sql.data(), static_cast<int>(Sql.size()), &Stmt, nullptr) !=
      SQLITE_OK)
    Db.fail("bad SQL");
  if (!Stmt)
    throw DbError("no SQL statement given");
}

Statement &Statement::bind(int Index, int64_t V) {
  if (sqlite3_bind_int64(Stmt, Index, V) != SQLITE_OK)
    Db.fail("cannot bind");
  return *this;
}

Statement &Statement::bind(int Index, double V) {
  if (sqlite3_bind_double(Stmt, Index, V) != SQLITE_OK)
    Db.fail("cannot bind");
  return *this;
}

Statement &Statement::bind(int Index, std::string_view V) {
  if (sqlite3_bind_text64(Stmt, Index, V.data(), V.size(), SQLITE_TRANSIENT, SQLITE_UTF8) !=
      SQLITE_OK)
    Db.fail("cannot bind");
  return *this;
}

Statement &Statement::bindNull(int Index) {
  if (sqlite3_bind_null(Stmt, Index) != SQLITE_OK)
    Db.fail("cannot bind");
  return *this;
}

bool Statement::step() {
  int Rc = sqlite3_step(Stmt);
  if (Rc == SQLITE_ROW)
    return true;
  if (Rc != SQLITE_DONE)
    Db.fail("query failed");
  return false;
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(Stmt);
  // Cheap enough per row (a loop over the parameters), and an unbound parameter must never
  // keep the previous row's value.
  sqlite3_clear_bindings(Stmt);
}

std::string Statement::text(int I) const {
  const auto *P = sqlite3_column_text(Stmt, I);
  return P ? std::string(reinterpret_cast<const char *>(P),
                         static_cast<size_t>(sqlite3_column_bytes(Stmt, I)))
           : std::string();
}

Transaction::~Transaction() {
  if (!Done)
    sqlite3_exec(Db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  Db.exec("COMMIT");
  Done = true;
}

} // namespace scopeprof::db
