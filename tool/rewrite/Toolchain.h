// Where our parts are (the runtime's header and library, beside an installed binary or in the
// build tree) and the arguments every parse of ours adds to a compile command.
#pragma once

#include "clang/Tooling/Tooling.h"

#include <string>

namespace scopeprof::rewrite {

/// The directory holding scopeprof/scope.h: PREFIX/include beside an installed \p Exe (from
/// llvm::sys::fs::getMainExecutable), else the source tree's runtime/include.
std::string runtimeIncludeDir(const std::string &Exe);

/// The directory holding libscopeprof.so: PREFIX/LIBDIR beside an installed \p Exe, else the
/// build tree's.
std::string runtimeLibraryDir(const std::string &Exe);

/// Clang's builtin headers pinned (they are found relative to the running binary otherwise),
/// the runtime's include path after the project's own (a rewritten tree parses again), and no
/// warnings (the real compiler checks the code later; here they are noise).
void addParseArguments(clang::tooling::ClangTool &Tool, const std::string &RuntimeIncludeDir);

} // namespace scopeprof::rewrite
