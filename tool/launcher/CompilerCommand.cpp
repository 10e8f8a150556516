// Reading a compiler command line (see CompilerCommand.h).
#include "CompilerCommand.h"

#include "clang/Driver/Options.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Option/Arg.h"
#include "llvm/Option/ArgList.h"
#include "llvm/Option/OptTable.h"
#include "llvm/Support/Path.h"

namespace scopeprof::launcher {

namespace {

namespace opts = clang::driver::options;

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

} // namespace

CompilerCommand classify(std::vector<std::string> Argv) {
  CompilerCommand Out;
  Out.Argv = std::move(Argv);
  Out.Compiler = Out.Argv.size() > 1 && isWrapper(Out.Argv[0]) ? 1 : 0;
  std::vector<const char *> Args;
  for (size_t I = Out.Compiler + 1; I < Out.Argv.size(); ++I)
    Args.push_back(Out.Argv[I].c_str());
  size_t Offset = Out.Compiler + 1; // Argv index of Args[0]

  unsigned MissingIndex = 0, MissingCount = 0;
  llvm::opt::InputArgList Parsed =
      clang::driver::getDriverOptTable().ParseArgs(Args, MissingIndex, MissingCount);
  std::vector<const llvm::opt::Arg *> Sources, Others;
  for (const llvm::opt::Arg *A : Parsed) {
    if (A->getOption().getID() != opts::OPT_INPUT)
      continue;
    llvm::StringRef Input = A->getValue();
    if (languageOf(Input) != Language::Other)
      Sources.push_back(A);
    else if (!isObjectOrLibrary(Input))
      Others.push_back(A);
  }
  for (const llvm::opt::Arg *A : Parsed.filtered(opts::OPT_I, opts::OPT_iquote, opts::OPT_isystem,
                                                 opts::OPT_idirafter)) {
    size_t Index = Offset + A->getIndex();
    Out.IncludeDirs.push_back({Index, "-" + A->getOption().getName().str(), A->getValue()});
  }
  for (const llvm::opt::Arg *A : Parsed.filtered(opts::OPT_include))
    if (Out.Argv[Offset + A->getIndex()] == "-include")
      Out.ForcedIncludes.push_back(Offset + A->getIndex() + 1);
  if (Parsed.hasArg(opts::OPT_MD, opts::OPT_MMD)) {
    if (const llvm::opt::Arg *MF = Parsed.getLastArg(opts::OPT_MF)) {
      Out.DepFile = MF->getValue();
    } else if (const llvm::opt::Arg *O = Parsed.getLastArg(opts::OPT_o)) {
      llvm::SmallString<256> D(O->getValue());
      llvm::sys::path::replace_extension(D, ".d");
      Out.DepFile = std::string(D);
    }
  }
  Out.NoStdLib = Parsed.hasArg(opts::OPT_nostdlib, opts::OPT_nodefaultlibs);

  auto PassThrough = [&Out](std::string Why) {
    Out.What = CompilerCommand::PassThrough;
    Out.Why = std::move(Why);
    return Out;
  };
  bool HasInputs = Parsed.hasArg(opts::OPT_INPUT);
  if (HasInputs)
    Out.FirstInput = Parsed.getLastArg(opts::OPT_INPUT)->getValue();
  if (MissingCount)
    return PassThrough("an option lacks its value");
  if (Parsed.hasArg(opts::OPT_E) || Parsed.hasArg(opts::OPT_M, opts::OPT_MM))
    return PassThrough(HasInputs ? "it only preprocesses (-E, -M or -MM)" : "");
  if (Parsed.hasArg(opts::OPT_fsyntax_only))
    return PassThrough("");
  if (!HasInputs)
    return PassThrough("");
  if (Parsed.hasArg(opts::OPT_c, opts::OPT_S)) {
    if (!Parsed.hasArg(opts::OPT_c))
      return PassThrough("it compiles to assembly (-S)");
    if (Parsed.hasArg(opts::OPT_x))
      return PassThrough("the language is forced with -x (a precompiled header, or a source "
                         "not named as one)");
    if (Sources.empty())
      return PassThrough(Others.empty() ? "" : "'" + std::string(Others.front()->getValue()) +
                                                   "' is not a C or C++ source");
    if (Sources.size() > 1)
      return PassThrough("it compiles several sources at once");
    Out.What = CompilerCommand::Compile;
    Out.Source = Offset + Sources.front()->getIndex();
    return Out;
  }
  Out.What = CompilerCommand::Link;
  if (!Sources.empty())
    Out.Why = "sources compiled and linked in one command are not instrumented (compile them "
              "with -c)";
  return Out;
}

} // namespace scopeprof::launcher
