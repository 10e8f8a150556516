// Reading a compiler command line (see CompilerCommand.h).
#include "CompilerCommand.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Path.h"

#include <cstring>

namespace scopeprof::launcher {

namespace {

bool isWrapper(llvm::StringRef Program) {
  llvm::StringRef Name = llvm::sys::path::filename(Program);
  return Name == "ccache" || Name == "sccache" || Name == "distcc" || Name == "icecc";
}

enum class Language { C, Cxx, Other };

Language languageOf(llvm::StringRef Path) {
  llvm::StringRef Ext = llvm::sys::path::extension(Path);
  if (Ext == ".c")
    return Language::C;
  for (const char *E : {".cc", ".cpp", ".cxx", ".c++", ".C", ".cp", ".CPP"})
    if (Ext == E)
      return Language::Cxx;
  return Language::Other;
}

bool isObjectOrLibrary(llvm::StringRef Path) {
  llvm::StringRef Ext = llvm::sys::path::extension(Path);
  return Ext == ".o" || Ext == ".obj" || Ext == ".a" || Ext == ".so" || Path.contains(".so.");
}

/// Options whose value is the next argument when not joined (GCC's and clang's spellings).
bool takesSeparateValue(llvm::StringRef Arg) {
  static const char *const Names[] = {
      "-o", "-I", "-iquote", "-isystem", "-idirafter", "-include", "-imacros", "-D", "-U", "-x",
      "-MF", "-MT", "-MQ", "-L", "-l", "-Xlinker", "-Xassembler", "-Xpreprocessor", "-Xclang",
      "-aux-info", "--param", "-target", "--target", "-arch", "-isysroot", "--sysroot",
      "-iprefix", "-iwithprefix", "-iwithprefixbefore", "-imultilib", "-T", "-u", "-z", "-B",
      "-e", "-G", "-specs", "-wrapper", "-dumpdir", "-dumpbase", "-dumpbase-ext"};
  for (const char *N : Names)
    if (Arg == N)
      return true;
  return false;
}

} // namespace

// clang's driver option table would read this, but the table compiled into libclang-cpp need
// not match the option IDs of the installed headers (Debian's 19.1 packages do not): a plain
// reading of the few options that matter is the reliable one.
CompilerCommand classify(std::vector<std::string> Argv) {
  CompilerCommand Out;
  Out.Argv = std::move(Argv);
  Out.Compiler = Out.Argv.size() > 1 && isWrapper(Out.Argv[0]) ? 1 : 0;
  std::vector<size_t> Sources, Others, Objects;
  bool Compile = false, Assembly = false, Preprocess = false, SyntaxOnly = false,
       ForcedLanguage = false, WritesDeps = false, MissingValue = false;
  std::optional<std::string> DepFile, Output;
  for (size_t I = Out.Compiler + 1; I < Out.Argv.size(); ++I) {
    llvm::StringRef Arg = Out.Argv[I];
    if (!Arg.starts_with("-") || Arg == "-") {
      if (languageOf(Arg) != Language::Other)
        Sources.push_back(I);
      else
        (isObjectOrLibrary(Arg) ? Objects : Others).push_back(I);
      continue;
    }
    if (takesSeparateValue(Arg)) {
      if (I + 1 >= Out.Argv.size()) {
        MissingValue = true;
        break;
      }
      llvm::StringRef Value = Out.Argv[I + 1];
      if (Arg == "-I" || Arg == "-iquote" || Arg == "-isystem" || Arg == "-idirafter")
        Out.IncludeDirs.push_back({I, Arg.str(), Value.str()});
      else if (Arg == "-include")
        Out.ForcedIncludes.push_back(I + 1);
      else if (Arg == "-MF")
        DepFile = Value.str();
      else if (Arg == "-o")
        Output = Value.str();
      else if (Arg == "-x")
        ForcedLanguage = true;
      ++I;
      continue;
    }
    for (const char *Flag : {"-I", "-iquote", "-isystem", "-idirafter"})
      if (Arg.starts_with(Flag) && Arg.size() > std::strlen(Flag) &&
          !(Arg.starts_with("-isystem") && llvm::StringRef(Flag) == "-I"))
        Out.IncludeDirs.push_back({I, Flag, Arg.substr(std::strlen(Flag)).str()});
    if (Arg == "-c")
      Compile = true;
    else if (Arg == "-S")
      Assembly = true;
    else if (Arg == "-E" || Arg == "-M" || Arg == "-MM")
      Preprocess = true;
    else if (Arg == "-fsyntax-only")
      SyntaxOnly = true;
    else if (Arg == "-MD" || Arg == "-MMD")
      WritesDeps = true;
    else if (Arg.starts_with("-MF"))
      DepFile = Arg.substr(3).str();
    else if (Arg.starts_with("-o"))
      Output = Arg.substr(2).str();
    else if (Arg.starts_with("-x"))
      ForcedLanguage = true;
    else if (Arg == "-nostdlib" || Arg == "-nodefaultlibs")
      Out.NoStdLib = true;
  }
  if (WritesDeps && !DepFile && Output) {
    llvm::SmallString<256> D(*Output);
    llvm::sys::path::replace_extension(D, ".d");
    DepFile = std::string(D);
  }
  if (WritesDeps)
    Out.DepFile = DepFile;

  auto PassThrough = [&Out](std::string Why) {
    Out.What = CompilerCommand::PassThrough;
    Out.Why = std::move(Why);
    return Out;
  };
  bool HasInputs = !Sources.empty() || !Others.empty() || !Objects.empty();
  if (!Sources.empty())
    Out.FirstInput = Out.Argv[Sources.front()];
  else if (!Others.empty())
    Out.FirstInput = Out.Argv[Others.front()];
  if (MissingValue)
    return PassThrough("an option lacks its value");
  if (Preprocess)
    return PassThrough(HasInputs ? "it only preprocesses (-E, -M or -MM)" : "");
  if (SyntaxOnly || !HasInputs)
    return PassThrough("");
  if (Compile || Assembly) {
    if (!Compile)
      return PassThrough("it compiles to assembly (-S)");
    if (ForcedLanguage)
      return PassThrough("the language is forced with -x (a precompiled header, or a source "
                         "not named as one)");
    if (Sources.empty())
      return PassThrough(Others.empty() ? "" : "it is not a C or C++ source");
    if (Sources.size() > 1)
      return PassThrough("it compiles several sources at once");
    Out.What = CompilerCommand::Compile;
    Out.Source = Sources.front();
    return Out;
  }
  Out.What = CompilerCommand::Link;
  if (!Sources.empty())
    Out.Why = "sources compiled and linked in one command are not instrumented (compile them "
              "with -c)";
  return Out;
}

} // namespace scopeprof::launcher
