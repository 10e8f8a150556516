// The SQLite RAII layer: every failure becomes a DbError that names the database file.
#include "Sqlite.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace scopeprof::db {

namespace {

/// A file: URI naming \p Path, with the characters URIs give a meaning escaped.
std::string fileUri(const std::string &Path) {
  std::string Out = "file:";
  for (char C : Path)
    if (C == '%' || C == '?' || C == '#')
      Out += fmt::format("%{:02X}", static_cast<unsigned char>(C));
    else
      Out += C;
  return Out;
}

/// SQLite's message, with the system's when a system call failed ("unable to open database
/// file" alone does not say whether the directory is missing or read-only).
std::string reason(sqlite3 *Handle) {
  std::string Out = sqlite3_errmsg(Handle);
  if (int Errno = sqlite3_system_errno(Handle))
    Out += fmt::format(" ({})", std::strerror(Errno));
  return Out;
}

} // namespace

std::string directoryOf(const std::string &Path) {
  auto Slash = Path.rfind('/');
  return Slash == std::string::npos ? "." : Slash == 0 ? "/" : Path.substr(0, Slash);
}

Database::Database(const std::string &Path, Mode M) : Path(Path) {
  int Flags =
      M == Mode::ReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  std::string Name = Path;
  if (M == Mode::ReadOnlyImmutable) {
    Flags |= SQLITE_OPEN_URI;
    Name = fileUri(Path) + "?immutable=1";
  }
  if (sqlite3_open_v2(Name.c_str(), &Handle, Flags, nullptr) != SQLITE_OK) {
    std::string Message = Handle ? reason(Handle) : "out of memory";
    // SQLite's last system call was its read-only retry: ENOENT, whatever stopped the create.
    struct stat St;
    if (M == Mode::ReadWrite && stat(Path.c_str(), &St) != 0 &&
        access(directoryOf(Path).c_str(), W_OK | X_OK) != 0)
      Message = std::strerror(errno);
    sqlite3_close(Handle);
    Handle = nullptr;
    throw InputError("cannot open database '" + Path + "': " + Message);
  }
  sqlite3_extended_result_codes(Handle, 1);
  sqlite3_busy_handler(Handle, busy, this);
}

/// Another scopeprof may be loading into the same file, for minutes: wait for it rather than
/// fail, and say why nothing happens.
int Database::busy(void *Self, int Count) {
  auto *Db = static_cast<Database *>(Self);
  constexpr int SleepMs = 50;
  if (Count * SleepMs >= 1000 && !Db->SaidWaiting) {
    fmt::print(stderr, "scopeprof: waiting: database '{}' is in use by another process (a load?)\n",
               Db->Path);
    Db->SaidWaiting = true;
  }
  sqlite3_sleep(SleepMs);
  return 1;
}

Database::~Database() { sqlite3_close_v2(Handle); }

void Database::fail(std::string_view What) const {
  throw DbError("database '" + Path + "': " + std::string(What) + ": " + reason(Handle));
}

void Database::exec(std::string_view Sql) {
  std::string Text(Sql);
  if (sqlite3_exec(Handle, Text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    fail("cannot run '" + Text.substr(0, 60) + "'");
}

Statement Database::prepare(std::string_view Sql) { return Statement(*this, Sql); }

Statement Database::prepareQuery(std::string_view Sql) {
  std::string_view Rest;
  Statement S(*this, Sql, &Rest);
  sqlite3_stmt *Next = nullptr;
  // Only comments and white space may follow; anything else would be silently ignored.
  if (sqlite3_prepare_v2(Handle, Rest.data(), static_cast<int>(Rest.size()), &Next, nullptr) !=
          SQLITE_OK ||
      Next) {
    sqlite3_finalize(Next);
    throw DbError("one SQL statement at a time; more follow the first: '" +
                  std::string(Rest.substr(Rest.find_first_not_of(" \t\r\n"), 60)) + "'");
  }
  // A read-only connection still lets VACUUM INTO write a new file.
  if (!S.readOnly())
    throw DbError("the database is opened read-only, and this statement writes: '" +
                  std::string(Sql.substr(0, 60)) + "'");
  return S;
}

Statement::Statement(Database &Db, std::string_view Sql, std::string_view *Rest) : Db(Db) {
  const char *Tail = nullptr;
  if (sqlite3_prepare_v2(Db.handle(), Sql.data(), static_cast<int>(Sql.size()), &Stmt, &Tail) !=
      SQLITE_OK)
    Db.fail("bad SQL");
  if (!Stmt)
    throw DbError("no SQL statement given");
  if (Rest)
    *Rest = Sql.substr(static_cast<size_t>(Tail - Sql.data()));
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
