// Schema version 11. Changing a table means a new version and a migration step below.
#include "Schema.h"

#include "Traceback.h"

#include <algorithm>
#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

namespace scopeprof::db {
namespace {

/// 'SPDB': marks the file as a scopeprof database for `file(1)` and for openForRead.
constexpr int ApplicationId = 0x53504442;

constexpr const char *SchemaV1 = R"sql(
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,        -- the run directory's name, e.g. run-20261122-101500-4242
  directory TEXT NOT NULL,          -- where it was loaded from
  start_wall_ns INTEGER,            -- ns since the epoch
  start_ns INTEGER, end_ns INTEGER, -- CLOCK_MONOTONIC, like every time in this database
  loaded_at TEXT NOT NULL);
CREATE TABLE processes(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  pid INTEGER NOT NULL, ppid INTEGER NOT NULL,
  name TEXT, parent_name TEXT, exe TEXT, command_line TEXT,
  start_ns INTEGER, end_ns INTEGER,   -- first call's start, last call's end
  start_wall_ns INTEGER,
  min_duration_ns INTEGER, max_depth INTEGER,
  calibration_ns INTEGER NOT NULL,    -- clock calibration: tells apart images of one pid (exec)
  UNIQUE(run_id, pid, calibration_ns));
CREATE TABLE threads(
  id INTEGER PRIMARY KEY,
  process_id INTEGER NOT NULL REFERENCES processes(id),
  run_id INTEGER NOT NULL REFERENCES runs(id),
  pid INTEGER NOT NULL, tid INTEGER NOT NULL,
  name TEXT,
  dropped_calls INTEGER NOT NULL DEFAULT 0,
  UNIQUE(process_id, tid));
CREATE TABLE sites(
  id INTEGER PRIMARY KEY,
  site_key TEXT NOT NULL UNIQUE,    -- the rewriter's stable 64-bit id, 16 hex digits
  signature TEXT NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL,
  kinds TEXT NOT NULL);
CREATE TABLE files(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  thread_id INTEGER REFERENCES threads(id),
  name TEXT NOT NULL, path TEXT NOT NULL,
  loaded_bytes INTEGER NOT NULL,    -- the next load starts after this offset
  batches INTEGER NOT NULL, calls INTEGER NOT NULL,
  problems TEXT,                    -- what could not be loaded, one line each
  loaded_at TEXT NOT NULL,
  UNIQUE(run_id, name));
-- Call ids are (file id << 32) + position in the file, so reloading a file gives the same ids.
CREATE TABLE calls(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL, pid INTEGER NOT NULL, tid INTEGER NOT NULL,
  thread_id INTEGER NOT NULL REFERENCES threads(id),
  site_id INTEGER NOT NULL REFERENCES sites(id),
  start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
  duration_ns INTEGER NOT NULL,     -- regions: paused time excluded
  self_ns INTEGER NOT NULL,         -- duration minus the calls recorded directly under it
  depth INTEGER NOT NULL,
  parent_id INTEGER,                -- NULL at depth 0; may name a call still open when loaded
  broken INTEGER NOT NULL,          -- 1: left by an exception
  error_type TEXT, error_message TEXT,
  traceback TEXT);                  -- broken calls of the same exception, innermost first
-- Calls under SCOPEPROF_MIN_DURATION or deeper than SCOPEPROF_MAX_DEPTH: counted, not recorded.
CREATE TABLE counted(
  thread_id INTEGER NOT NULL REFERENCES threads(id),
  run_id INTEGER NOT NULL,
  site_id INTEGER NOT NULL REFERENCES sites(id),
  calls INTEGER NOT NULL, total_ns INTEGER NOT NULL,
  PRIMARY KEY(thread_id, site_id)) WITHOUT ROWID;
CREATE TABLE site_stats(
  run_id INTEGER NOT NULL REFERENCES runs(id),
  site_id INTEGER NOT NULL REFERENCES sites(id),
  calls INTEGER NOT NULL,           -- recorded + counted
  recorded_calls INTEGER NOT NULL,
  broken_calls INTEGER NOT NULL,
  total_ns INTEGER NOT NULL, self_ns INTEGER NOT NULL,
  mean_ns REAL NOT NULL,
  stddev_ns REAL, min_ns INTEGER, p50_ns INTEGER, p95_ns INTEGER, max_ns INTEGER,
  PRIMARY KEY(run_id, site_id)) WITHOUT ROWID;
CREATE VIEW call_details AS
  SELECT c.id, r.name AS run, c.pid, p.ppid, p.name AS process, p.parent_name AS parent_process,
         c.tid, t.name AS thread, s.signature AS function, s.file, s.line, c.start_ns, c.end_ns,
         c.duration_ns, c.self_ns, c.depth, c.parent_id, c.broken, c.error_type,
         c.error_message, c.traceback
  FROM calls c JOIN runs r ON r.id = c.run_id JOIN threads t ON t.id = c.thread_id
       JOIN processes p ON p.id = t.process_id JOIN sites s ON s.id = c.site_id;
)sql";

/// Version 2: overhead compensation (duration_ns and self_ns become compensated, the measured
/// values move to raw_*), the measured cost per call of each process, the auto-throttle.
constexpr const char *MigrateToV2 = R"sql(
ALTER TABLE calls ADD COLUMN raw_duration_ns INTEGER;  -- as measured, scope cost included
ALTER TABLE calls ADD COLUMN raw_self_ns INTEGER;
UPDATE calls SET raw_duration_ns = duration_ns, raw_self_ns = self_ns;
DROP INDEX IF EXISTS calls_by_site;
ALTER TABLE processes ADD COLUMN scope_inner_ns REAL;  -- cost of a recorded call inside its own
ALTER TABLE processes ADD COLUMN scope_outer_ns REAL;  -- interval, and as its parent pays it
ALTER TABLE processes ADD COLUMN throttle_calls INTEGER;
ALTER TABLE processes ADD COLUMN throttle_ns INTEGER;
ALTER TABLE site_stats ADD COLUMN raw_total_ns INTEGER;
ALTER TABLE site_stats ADD COLUMN raw_self_ns INTEGER;
ALTER TABLE site_stats ADD COLUMN throttled_after INTEGER; -- calls seen when throttled (summed)
UPDATE site_stats SET raw_total_ns = total_ns, raw_self_ns = self_ns;
-- Sites the auto-throttle switched off: no call starting at or after at_ns was recorded.
CREATE TABLE throttled(
  process_id INTEGER NOT NULL REFERENCES processes(id),
  run_id INTEGER NOT NULL REFERENCES runs(id),
  site_id INTEGER NOT NULL REFERENCES sites(id),
  after_calls INTEGER NOT NULL,     -- calls of the site the process had made when it was cut
  at_ns INTEGER NOT NULL,
  PRIMARY KEY(process_id, site_id)) WITHOUT ROWID;
DROP VIEW call_details;
CREATE VIEW call_details AS
  SELECT c.id, r.name AS run, c.pid, p.ppid, p.name AS process, p.parent_name AS parent_process,
         c.tid, t.name AS thread, s.signature AS function, s.file, s.line, c.start_ns, c.end_ns,
         c.duration_ns, c.self_ns, c.raw_duration_ns, c.raw_self_ns, c.depth, c.parent_id,
         c.broken, c.error_type, c.error_message, c.traceback
  FROM calls c JOIN runs r ON r.id = c.run_id JOIN threads t ON t.id = c.thread_id
       JOIN processes p ON p.id = t.process_id JOIN sites s ON s.id = c.site_id;
)sql";

/// Version 3: an exception's type, message and traceback are stored once, in `exceptions`
/// (a traceback per broken call grew with the square of the unwound depth), and runs are
/// told apart by the nonce their logs carry.
constexpr const char *MigrateToV3Tables = R"sql(
CREATE TABLE exceptions(
  id INTEGER PRIMARY KEY,           -- the id of its innermost broken call
  run_id INTEGER NOT NULL REFERENCES runs(id),
  thread_id INTEGER REFERENCES threads(id),
  pid INTEGER, tid INTEGER,
  type TEXT, message TEXT,
  traceback TEXT,                   -- innermost first, one `function (file:line)` per line; long
                                    -- ones keep both ends and say how many frames were left out
  frames INTEGER NOT NULL);         -- the broken calls it left, all of them
ALTER TABLE calls ADD COLUMN exception_id INTEGER; -- exceptions.id, for broken calls
ALTER TABLE runs ADD COLUMN nonce INTEGER;         -- from the logs (NULL: written before nonces)
ALTER TABLE runs ADD COLUMN logged_name TEXT;      -- the run id in the logs
UPDATE runs SET logged_name = name;
)sql";

constexpr const char *MigrateToV3Views = R"sql(
DROP VIEW call_details;
ALTER TABLE calls DROP COLUMN error_type;
ALTER TABLE calls DROP COLUMN error_message;
ALTER TABLE calls DROP COLUMN traceback;
CREATE VIEW call_details AS
  SELECT c.id, r.name AS run, c.pid, p.ppid, p.name AS process, p.parent_name AS parent_process,
         c.tid, t.name AS thread, s.signature AS function, s.file, s.line, c.start_ns, c.end_ns,
         c.duration_ns, c.self_ns, c.raw_duration_ns, c.raw_self_ns, c.depth, c.parent_id,
         c.broken, e.type AS error_type, e.message AS error_message, e.traceback,
         c.exception_id
  FROM calls c JOIN runs r ON r.id = c.run_id JOIN threads t ON t.id = c.thread_id
       JOIN processes p ON p.id = t.process_id JOIN sites s ON s.id = c.site_id
       LEFT JOIN exceptions e ON e.id = c.exception_id;
)sql";

/// Version 4: CPU time, from the threads' context switches (docs/runtime.md). Calls of
/// earlier versions were not measured: their CPU columns are NULL.
constexpr const char *MigrateToV4 = R"sql(
ALTER TABLE calls ADD COLUMN cpu_ns INTEGER;       -- duration_ns less the time off the CPU
ALTER TABLE calls ADD COLUMN self_cpu_ns INTEGER;  -- self_ns less the self part's time off it
ALTER TABLE threads ADD COLUMN switches_since_ns INTEGER; -- switches tracked since (NULL: not)
ALTER TABLE site_stats ADD COLUMN cpu_calls INTEGER;    -- recorded calls with a CPU time
ALTER TABLE site_stats ADD COLUMN cpu_ns INTEGER;       -- totals over those calls
ALTER TABLE site_stats ADD COLUMN self_cpu_ns INTEGER;
ALTER TABLE site_stats ADD COLUMN wait_ns INTEGER;      -- duration_ns - cpu_ns
ALTER TABLE site_stats ADD COLUMN self_wait_ns INTEGER; -- self_ns - self_cpu_ns
DROP INDEX IF EXISTS calls_by_site;
DROP VIEW call_details;
CREATE VIEW call_details AS
  SELECT c.id, r.name AS run, c.pid, p.ppid, p.name AS process, p.parent_name AS parent_process,
         c.tid, t.name AS thread, s.signature AS function, s.file, s.line, c.start_ns, c.end_ns,
         c.duration_ns, c.self_ns, c.raw_duration_ns, c.raw_self_ns, c.depth, c.parent_id,
         c.broken, e.type AS error_type, e.message AS error_message, e.traceback,
         c.exception_id, c.cpu_ns, c.self_cpu_ns
  FROM calls c JOIN runs r ON r.id = c.run_id JOIN threads t ON t.id = c.thread_id
       JOIN processes p ON p.id = t.process_id JOIN sites s ON s.id = c.site_id
       LEFT JOIN exceptions e ON e.id = c.exception_id;
)sql";

/// Version 5: the auto-throttle samples the sites it cuts instead of switching them off; a
/// sample stands for `weight` calls, and the time of the unsampled ones is estimated.
constexpr const char *MigrateToV5 = R"sql(
ALTER TABLE calls ADD COLUMN weight INTEGER NOT NULL DEFAULT 1; -- calls this one stands for
ALTER TABLE site_stats ADD COLUMN estimated_calls INTEGER; -- in calls, from samples
DROP INDEX IF EXISTS calls_by_site; -- rebuilt after the load, covering the new columns
)sql";

/// Version 6: allocations per call (SCOPEPROF_COUNTERS=memory). NULL where not counted.
constexpr const char *MigrateToV6 = R"sql(
ALTER TABLE calls ADD COLUMN allocs INTEGER;           -- allocations during the call, inclusive
ALTER TABLE calls ADD COLUMN alloc_bytes INTEGER;      -- bytes they asked for, inclusive
ALTER TABLE calls ADD COLUMN self_alloc_bytes INTEGER; -- alloc_bytes less the recorded children's
ALTER TABLE threads ADD COLUMN counts_memory INTEGER NOT NULL DEFAULT 0;
ALTER TABLE site_stats ADD COLUMN allocs INTEGER;      -- totals over the calls that counted them
ALTER TABLE site_stats ADD COLUMN alloc_bytes INTEGER;
ALTER TABLE site_stats ADD COLUMN self_alloc_bytes INTEGER;
DROP VIEW call_details;
CREATE VIEW call_details AS
  SELECT c.id, r.name AS run, c.pid, p.ppid, p.name AS process, p.parent_name AS parent_process,
         c.tid, t.name AS thread, s.signature AS function, s.file, s.line, c.start_ns, c.end_ns,
         c.duration_ns, c.self_ns, c.raw_duration_ns, c.raw_self_ns, c.depth, c.parent_id,
         c.broken, e.type AS error_type, e.message AS error_message, e.traceback,
         c.exception_id, c.cpu_ns, c.self_cpu_ns, c.weight, c.allocs, c.alloc_bytes,
         c.self_alloc_bytes
  FROM calls c JOIN runs r ON r.id = c.run_id JOIN threads t ON t.id = c.thread_id
       JOIN processes p ON p.id = t.process_id JOIN sites s ON s.id = c.site_id
       LEFT JOIN exceptions e ON e.id = c.exception_id;
)sql";

/// Version 7: profile cases (docs/cases.md). A call belongs to the case of its process that was
/// open when it started; calls loaded before have none.
constexpr const char *MigrateToV7 = R"sql(
CREATE TABLE cases(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  process_id INTEGER NOT NULL REFERENCES processes(id),
  pid INTEGER NOT NULL,
  name TEXT NOT NULL,               -- Suite::name
  repetition INTEGER NOT NULL,      -- 1, 2, ...: warm-ups and measured repetitions apart
  warmup INTEGER NOT NULL,          -- 1: a warm-up, left out of report, diff and export --case
  failed INTEGER NOT NULL,          -- 1: the case threw, or the test failed
  start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL);
CREATE INDEX cases_by_process ON cases(process_id, start_ns);
ALTER TABLE calls ADD COLUMN case_id INTEGER;  -- cases.id: open in the process when the call began
DROP INDEX IF EXISTS calls_by_site; -- rebuilt after the load, covering case_id
DROP VIEW call_details;
CREATE VIEW call_details AS
  SELECT c.id, r.name AS run, c.pid, p.ppid, p.name AS process, p.parent_name AS parent_process,
         c.tid, t.name AS thread, s.signature AS function, s.file, s.line, c.start_ns, c.end_ns,
         c.duration_ns, c.self_ns, c.raw_duration_ns, c.raw_self_ns, c.depth, c.parent_id,
         c.broken, e.type AS error_type, e.message AS error_message, e.traceback,
         c.exception_id, c.cpu_ns, c.self_cpu_ns, c.weight, c.allocs, c.alloc_bytes,
         c.self_alloc_bytes, c.case_id, k.name AS case_name, k.repetition AS case_repetition,
         k.warmup AS case_warmup
  FROM calls c JOIN runs r ON r.id = c.run_id JOIN threads t ON t.id = c.thread_id
       JOIN processes p ON p.id = t.process_id JOIN sites s ON s.id = c.site_id
       LEFT JOIN exceptions e ON e.id = c.exception_id LEFT JOIN cases k ON k.id = c.case_id;
)sql";

/// Version 8: the peak of live bytes per call (counted calls of logs that carry it; NULL
/// elsewhere), and per site its total and largest.
constexpr const char *MigrateToV8 = R"sql(
ALTER TABLE calls ADD COLUMN peak_bytes INTEGER; -- live bytes' peak during the call above its start
ALTER TABLE site_stats ADD COLUMN peak_bytes INTEGER;     -- total over the calls that have it
ALTER TABLE site_stats ADD COLUMN max_peak_bytes INTEGER; -- the largest
DROP VIEW call_details;
CREATE VIEW call_details AS
  SELECT c.id, r.name AS run, c.pid, p.ppid, p.name AS process, p.parent_name AS parent_process,
         c.tid, t.name AS thread, s.signature AS function, s.file, s.line, c.start_ns, c.end_ns,
         c.duration_ns, c.self_ns, c.raw_duration_ns, c.raw_self_ns, c.depth, c.parent_id,
         c.broken, e.type AS error_type, e.message AS error_message, e.traceback,
         c.exception_id, c.cpu_ns, c.self_cpu_ns, c.weight, c.allocs, c.alloc_bytes,
         c.self_alloc_bytes, c.case_id, k.name AS case_name, k.repetition AS case_repetition,
         k.warmup AS case_warmup, c.peak_bytes
  FROM calls c JOIN runs r ON r.id = c.run_id JOIN threads t ON t.id = c.thread_id
       JOIN processes p ON p.id = t.process_id JOIN sites s ON s.id = c.site_id
       LEFT JOIN exceptions e ON e.id = c.exception_id LEFT JOIN cases k ON k.id = c.case_id;
)sql";

/// Version 9: samples of each thread's CPU time (SCOPEPROF_CPU_SAMPLES), which give throttled
/// functions their own time (docs/schema.md).
constexpr const char *MigrateToV9 = R"sql(
ALTER TABLE threads ADD COLUMN cpu_sample_ns INTEGER; -- CPU time between two samples (NULL: none)
ALTER TABLE processes ADD COLUMN throttled_call_ns REAL; -- cost of a throttled call, in its samples
CREATE TABLE cpu_samples(
  run_id INTEGER NOT NULL REFERENCES runs(id),
  thread_id INTEGER NOT NULL REFERENCES threads(id),
  site_id INTEGER NOT NULL REFERENCES sites(id), -- of the thread's innermost open call
  recorded_site_id INTEGER REFERENCES sites(id),  -- of its innermost recorded call (NULL: none)
  at_ns INTEGER NOT NULL,
  weight INTEGER NOT NULL,  -- sampling periods it stands for (a late timer's missed ones)
  case_id INTEGER);         -- cases.id: open in the process at the time
CREATE INDEX cpu_samples_by_run ON cpu_samples(run_id, site_id);
)sql";

/// Version 10: where each CPU sample was taken. With the interrupted address, a sample is
/// charged to the instrumented function whose code is there (inline frames included), or found
/// to be in scopeprof's own code (docs/runtime.md, "CPU samples").
constexpr const char *MigrateToV10 = R"sql(
ALTER TABLE cpu_samples ADD COLUMN address INTEGER; -- the instruction it interrupted (NULL: none)
ALTER TABLE cpu_samples ADD COLUMN by_address INTEGER NOT NULL DEFAULT 0; -- site_id from address
ALTER TABLE cpu_samples ADD COLUMN in_scopeprof INTEGER NOT NULL DEFAULT 0; -- measurement code
)sql";

/// Version 11: whether a throttled site's calls were still sampled after the cut, or none was
/// recorded (SCOPEPROF_THROTTLE's off, the default where CPU samples are taken).
constexpr const char *MigrateToV11 = R"sql(
ALTER TABLE throttled ADD COLUMN sampled INTEGER NOT NULL DEFAULT 1; -- 0: no call recorded after
)sql";

/// Version 2 stored each broken call's traceback (innermost up to it). A thread's calls are
/// stored in the order they ended, so the broken calls of one exception follow each other,
/// each the parent of the one before; the last one's traceback is the whole one.
void migrateExceptionsToV3(Database &Db) {
  Db.exec(MigrateToV3Tables);
  auto Broken = Db.prepare("SELECT c.id, c.parent_id, c.run_id, c.thread_id, c.pid, c.tid, "
                           "c.error_type, c.error_message, c.traceback FROM calls c "
                           "WHERE c.broken ORDER BY c.id");
  auto Insert = Db.prepare("INSERT INTO exceptions(id, run_id, thread_id, pid, tid, type, message, "
                           "traceback, frames) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  auto Link = Db.prepare("UPDATE calls SET exception_id=?2 WHERE id=?1");
  Traceback Current;
  int64_t First = 0, ExpectedParent = 0;
  auto flush = [&] {
    if (First)
      Current.store(Insert, First);
  };
  while (Broken.step()) {
    int64_t Id = Broken.integer(0);
    std::string Text = Broken.text(8);
    // A call that caught one exception and was then broken by another starts a traceback.
    auto Lines = static_cast<uint64_t>(std::count(Text.begin(), Text.end(), '\n') + 1);
    if (!First || Id != ExpectedParent || Lines != Current.Frames + 1) {
      flush();
      First = Id;
      Current = Traceback();
      Current.Run = Broken.integer(2);
      Current.Thread = Broken.integer(3);
      Current.Pid = Broken.integer(4);
      Current.Tid = Broken.integer(5);
      Current.Type = Broken.text(6);
      Current.Message = Broken.text(7);
    }
    Current.addFrame(Text.substr(Text.rfind('\n') + 1));
    ExpectedParent = Broken.isNull(1) ? 0 : Broken.integer(1);
    Link.bind(1, Id).bind(2, First).run();
  }
  flush();
  Db.exec(MigrateToV3Views);
}

int pragmaInt(Database &Db, const char *Name) {
  auto S = Db.prepare(std::string("PRAGMA ") + Name);
  return S.step() ? static_cast<int>(S.integer(0)) : 0;
}

int tableCount(Database &Db) {
  auto S = Db.prepare("SELECT count(*) FROM sqlite_schema");
  S.step();
  return static_cast<int>(S.integer(0));
}

/// Throws unless \p Db is a scopeprof database this build can read.
void checkVersion(Database &Db) {
  if (pragmaInt(Db, "application_id") != ApplicationId)
    throw InputError("'" + Db.path() + "' is not a scopeprof database");
  int Version = pragmaInt(Db, "user_version");
  if (Version > SchemaVersion)
    throw InputError("database '" + Db.path() + "' has schema version " + std::to_string(Version) +
                     ", newer than this scopeprof knows (" + std::to_string(SchemaVersion) +
                     "); use a newer scopeprof");
}

void probe(Database &Db) {
  // sqlite opens any file lazily; the first read tells whether it is a database at all.
  try {
    tableCount(Db);
  } catch (const DbError &) {
    if (sqlite3_errcode(Db.handle()) == SQLITE_NOTADB)
      throw InputError("'" + Db.path() + "' is not a SQLite database");
    throw InputError("cannot read database '" + Db.path() + "': " + sqlite3_errmsg(Db.handle()));
  }
}

bool exists(const std::string &Path) {
  struct stat St;
  return stat(Path.c_str(), &St) == 0;
}

/// Whether \p Path is a SQLite database in WAL mode (header bytes 18 and 19 are 2).
bool walMode(const std::string &Path) {
  unsigned char Header[20] = {};
  FILE *F = std::fopen(Path.c_str(), "rb");
  if (!F)
    return false;
  size_t Got = std::fread(Header, 1, sizeof(Header), F);
  std::fclose(F);
  return Got == sizeof(Header) && Header[18] == 2 && Header[19] == 2;
}

/// Opens \p Path read-only. A WAL database needs its -shm file, which SQLite cannot create in
/// a read-only directory; without a -wal file the database file holds everything, and it
/// can be read as immutable.
std::unique_ptr<Database> openReadOnly(const std::string &Path) {
  auto Db = std::make_unique<Database>(Path, Database::Mode::ReadOnly);
  try {
    probe(*Db);
    return Db;
  } catch (const InputError &) {
    if (!walMode(Path) || access(directoryOf(Path).c_str(), W_OK) == 0 || exists(Path + "-shm"))
      throw;
  }
  struct stat Wal;
  if (stat((Path + "-wal").c_str(), &Wal) == 0 && Wal.st_size > 0)
    throw InputError("cannot read database '" + Path + "': its write-ahead log '" + Path +
                     "-wal' needs a '-shm' file, and the directory is read-only (make it "
                     "writable, or copy the database elsewhere)");
  Db = std::make_unique<Database>(Path, Database::Mode::ReadOnlyImmutable);
  probe(*Db);
  return Db;
}

} // namespace

std::unique_ptr<Database> openForLoad(const std::string &Path) {
  auto Db = std::make_unique<Database>(Path, Database::Mode::ReadWrite);
  probe(*Db);
  // Nothing is changed in a file that is not ours: the journal mode is set only after the check.
  if (tableCount(*Db) != 0)
    checkVersion(*Db);
  Db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
           "PRAGMA temp_store=FILE");
  Transaction T(*Db);
  if (tableCount(*Db) == 0) {
    Db->exec(SchemaV1);
    Db->exec("PRAGMA application_id=" + std::to_string(ApplicationId) + "; PRAGMA user_version=1");
  }
  checkVersion(*Db);
  // Each schema change adds a migration step from the version before it, run here inside
  // this transaction (a new database is created at version 1 and migrated like any other).
  // Version 1 is the first: anything older is not ours to guess at.
  int Version = pragmaInt(*Db, "user_version");
  if (Version < 1)
    throw InputError("database '" + Path + "' has schema version " + std::to_string(Version) +
                     ", which this scopeprof cannot upgrade; load the runs into a new database");
  if (Version < 2)
    Db->exec(std::string(MigrateToV2) + "PRAGMA user_version=2");
  if (Version < 3) {
    migrateExceptionsToV3(*Db);
    Db->exec("PRAGMA user_version=3");
  }
  if (Version < 4)
    Db->exec(std::string(MigrateToV4) + "PRAGMA user_version=4");
  if (Version < 5)
    Db->exec(std::string(MigrateToV5) + "PRAGMA user_version=5");
  if (Version < 6)
    Db->exec(std::string(MigrateToV6) + "PRAGMA user_version=6");
  if (Version < 7)
    Db->exec(std::string(MigrateToV7) + "PRAGMA user_version=7");
  if (Version < 8)
    Db->exec(std::string(MigrateToV8) + "PRAGMA user_version=8");
  if (Version < 9)
    Db->exec(std::string(MigrateToV9) + "PRAGMA user_version=9");
  if (Version < 10)
    Db->exec(std::string(MigrateToV10) + "PRAGMA user_version=10");
  if (Version < 11)
    Db->exec(std::string(MigrateToV11) + "PRAGMA user_version=11");
  T.commit();
  return Db;
}

std::unique_ptr<Database> openForRead(const std::string &Path) {
  if (!exists(Path))
    throw InputError("no database '" + Path + "'");
  auto Db = openReadOnly(Path);
  checkVersion(*Db);
  if (int Version = pragmaInt(*Db, "user_version"); Version < SchemaVersion)
    throw InputError("database '" + Path + "' has schema version " + std::to_string(Version) +
                     ", older than this scopeprof reads (" + std::to_string(SchemaVersion) +
                     "); 'scopeprof load' upgrades a database it knows how to");
  return Db;
}

void createIndexes(Database &Db) {
  // Covering: statistics and percentiles read only the index, also by case (--case: a
  // percentile of a function called millions of times in a run would otherwise look up every
  // row for its case). Exports that need calls in start order sort them; an index for that
  // would cost every load as much as this one.
  Db.exec("CREATE INDEX IF NOT EXISTS calls_by_site ON "
          "calls(run_id, site_id, duration_ns, self_ns, broken, raw_duration_ns, raw_self_ns, "
          "cpu_ns, self_cpu_ns, weight, parent_id, case_id);"
          "PRAGMA analysis_limit=1000; ANALYZE");
}

void dropIndexes(Database &Db) { Db.exec("DROP INDEX IF EXISTS calls_by_site"); }

} // namespace scopeprof::db
