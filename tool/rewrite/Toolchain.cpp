// Locating the runtime and setting up parses (see Toolchain.h).
#include "Toolchain.h"

#include "clang/Tooling/ArgumentsAdjusters.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

namespace scopeprof::rewrite {

namespace {
std::string installPrefix(const std::string &Exe) {
  return llvm::sys::path::parent_path(llvm::sys::path::parent_path(Exe)).str();
}
} // namespace

std::string runtimeIncludeDir(const std::string &Exe) {
  std::string Installed = installPrefix(Exe) + "/include";
  if (llvm::sys::fs::exists(Installed + "/scopeprof/scope.h"))
    return Installed;
  return SCOPEPROF_RUNTIME_INCLUDE_DIR;
}

std::string runtimeLibraryDir(const std::string &Exe) {
  std::string Installed = installPrefix(Exe) + "/" SCOPEPROF_INSTALL_LIBDIR;
  if (llvm::sys::fs::exists(Installed + "/libscopeprof.so"))
    return Installed;
  return SCOPEPROF_RUNTIME_LIBRARY_DIR;
}

void addParseArguments(clang::tooling::ClangTool &Tool, const std::string &RuntimeIncludeDir) {
  using namespace clang::tooling;
  Tool.appendArgumentsAdjuster(getInsertArgumentAdjuster(
      "-resource-dir=" SCOPEPROF_CLANG_RESOURCE_DIR, ArgumentInsertPosition::END));
  Tool.appendArgumentsAdjuster(
      getInsertArgumentAdjuster({"-idirafter", RuntimeIncludeDir}, ArgumentInsertPosition::END));
  Tool.appendArgumentsAdjuster(getInsertArgumentAdjuster("-w", ArgumentInsertPosition::END));
}

} // namespace scopeprof::rewrite
