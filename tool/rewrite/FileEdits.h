// Text-level edits: applying insertions, stripping them again, writing files atomically.
#pragma once

#include "Instrumenter.h"

#include <map>
#include <string>

namespace scopeprof::rewrite {

/// \p Content with every insertion applied at its byte offset.
std::string applyInsertions(const std::string &Content, const std::map<unsigned, std::string> &Edits);

/// Where the include block goes in \p Content: after a UTF-8 byte order mark, which a compiler
/// only accepts at the very start of a file.
size_t includeBlockOffset(const std::string &Content);
/// Whether \p Content has the include block already (a rewritten file).
bool hasIncludeBlock(const std::string &Content);

/// \p Content without anything a rewrite added: the include block at the top and every
/// `SCOPEPROF_FN(...)` in the exact format the rewriter writes. Sets \p Removed to the count.
std::string stripInstrumentation(const std::string &Content, unsigned &Removed);

bool readFile(const std::string &Path, std::string &Content, std::string &Error);

/// Writes through a temporary file in the same directory and a rename, keeping the mode.
bool writeFileAtomically(const std::string &Path, const std::string &Content, std::string &Error);

/// A unified diff of two versions of \p Label (empty when they are equal).
std::string unifiedDiff(const std::string &Label, const std::string &Before, const std::string &After);

} // namespace scopeprof::rewrite
