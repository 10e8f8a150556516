// The scopeprof database schema (docs/schema.md): creation, version check and migration.
#pragma once

#include "Sqlite.h"

#include <memory>

namespace scopeprof::db {

/// PRAGMA user_version of a database this scopeprof writes.
constexpr int SchemaVersion = 11;

/// Opens \p Path for loading: creates the schema in a new or empty file, migrates an older
/// scopeprof database, refuses anything else (DbError naming the file and why).
std::unique_ptr<Database> openForLoad(const std::string &Path);

/// Opens an existing scopeprof database read-only (report, query, export, diff).
std::unique_ptr<Database> openForRead(const std::string &Path);

/// Creates the index statistics, reports and diff read (after a bulk load: building it once
/// is faster than maintaining it row by row).
void createIndexes(Database &Db);
void dropIndexes(Database &Db);

} // namespace scopeprof::db
