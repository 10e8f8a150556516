// scopeprof-cc: the compiler launcher behind `scopeprof cc COMPILER ARGS...`. A compile is
// instrumented as `scopeprof rewrite` would instrument it, in a private temporary tree that
// mirrors the project's files, and that is compiled with the user's flags; a link gets the
// runtime. What cannot be instrumented is compiled as given with a one-line note: a build
// never fails because of us.
#include "CompilerCommand.h"

#include "FileEdits.h"
#include "Instrumenter.h"
#include "ProjectRoot.h"
#include "Toolchain.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Basic/Diagnostic.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Frontend/ASTUnit.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/VirtualFileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <unistd.h>

using namespace clang;
using namespace scopeprof::rewrite;
using scopeprof::launcher::CompilerCommand;

namespace {

void note(const std::string &Message) {
  llvm::errs() << "scopeprof cc: note: " << Message << "\n";
}

/// Runs \p Argv in place of this process (a pass-through or a link: nothing to clean up after).
int execCompiler(const std::vector<std::string> &Argv) {
  std::vector<char *> Raw;
  for (const auto &A : Argv)
    Raw.push_back(const_cast<char *>(A.c_str()));
  Raw.push_back(nullptr);
  execvp(Raw[0], Raw.data());
  llvm::errs() << "scopeprof cc: error: cannot run '" << Argv[0] << "': " << std::strerror(errno)
               << "\n";
  return 127;
}

/// Runs \p Argv and waits, its standard error into \p StderrFile; the exit status, or -1 if it
/// could not be started.
int runCompiler(const std::vector<std::string> &Argv, const std::string &StderrFile) {
  llvm::ErrorOr<std::string> Program = llvm::StringRef(Argv[0]).contains('/')
                                           ? llvm::ErrorOr<std::string>(Argv[0])
                                           : llvm::sys::findProgramByName(Argv[0]);
  if (!Program)
    return -1;
  std::vector<llvm::StringRef> Refs(Argv.begin(), Argv.end());
  std::optional<llvm::StringRef> Redirects[] = {std::nullopt, std::nullopt,
                                                llvm::StringRef(StderrFile)};
  return llvm::sys::ExecuteAndWait(*Program, Refs, std::nullopt, Redirects);
}

/// An absolute path with `.` and `..` removed as text, the way a mirror under another
/// directory resolves it.
std::string lexicallyAbsolute(const std::string &Cwd, llvm::StringRef Path) {
  llvm::SmallString<256> Out(Path);
  llvm::sys::fs::make_absolute(Cwd, Out);
  llvm::sys::path::remove_dots(Out, /*remove_dot_dot=*/true);
  return std::string(Out);
}

std::string quoted(llvm::StringRef Text) {
  std::string Out = "\"";
  for (char C : Text) {
    if (C == '"' || C == '\\')
      Out += '\\';
    Out += C;
  }
  return Out + "\"";
}

/// Keeps clang's parse quiet (the real compiler speaks for the code) and remembers its first
/// error for the note.
class FirstError : public DiagnosticConsumer {
public:
  void HandleDiagnostic(DiagnosticsEngine::Level Level, const Diagnostic &Info) override {
    DiagnosticConsumer::HandleDiagnostic(Level, Info);
    if (Level < DiagnosticsEngine::Error || !Message.empty())
      return;
    llvm::SmallString<128> Text;
    Info.FormatDiagnostic(Text);
    if (Info.hasSourceManager() && Info.getLocation().isValid()) {
      PresumedLoc Loc = Info.getSourceManager().getPresumedLoc(Info.getLocation());
      if (Loc.isValid())
        Message = std::string(Loc.getFilename()) + ":" + std::to_string(Loc.getLine()) + ": ";
    }
    Message += Text.str();
  }
  std::string Message;
};

/// One compile command, for a tool that parses exactly it.
class OneCommand : public tooling::CompilationDatabase {
public:
  explicit OneCommand(tooling::CompileCommand Command) : Command(std::move(Command)) {}
  std::vector<tooling::CompileCommand> getCompileCommands(llvm::StringRef) const override {
    return {Command};
  }

private:
  tooling::CompileCommand Command;
};

/// The instrumented compile: the user's command pointed at the mirror, or why there is none
/// (Why empty when the unit simply has nothing to instrument).
struct Plan {
  std::vector<std::string> Argv;
  std::string Why;
};

Plan instrument(const CompilerCommand &Cmd, const std::string &Temp, const std::string &Exe) {
  llvm::SmallString<256> CwdBuf;
  if (std::error_code EC = llvm::sys::fs::current_path(CwdBuf))
    return {{}, "cannot read the working directory: " + EC.message()};
  std::string Cwd(CwdBuf);
  const std::string &SourceArg = Cmd.Argv[Cmd.Source];
  std::string AbsSource = lexicallyAbsolute(Cwd, SourceArg);
  std::string RealSource = realPath(AbsSource);
  if (RealSource.empty())
    return {{}, "cannot read '" + SourceArg + "'"};
  std::string SourceDir = llvm::sys::path::parent_path(RealSource).str();

  // The root and the rules exactly as `scopeprof rewrite` finds them (ProjectRoot.h).
  std::string RealCwd = realPath(Cwd);
  ProjectRoot Root = chooseProjectRoot(SourceDir, findCMakeBuildDir(RealCwd),
                                       isUnder(RealSource, RealCwd) ? RealCwd : SourceDir);
  if (Root.Dir.empty())
    return {{}, Root.How};
  if (!isUnder(RealSource, Root.Dir))
    return {};
  std::optional<scopeprof::rules::RuleSet> Rules;
  if (std::string RulesPath = findRulesFile(SourceDir); !RulesPath.empty()) {
    scopeprof::rules::RulesError Err;
    Rules = scopeprof::rules::RuleSet::load(RulesPath, &Err);
    if (!Rules)
      return {{}, Err.format()};
  }

  // Parse with the user's own command; the compiler's name sets clang's driver mode (g++
  // compiles a .c file as C++).
  std::vector<std::string> CommandLine(Cmd.Argv.begin() + static_cast<long>(Cmd.Compiler),
                                       Cmd.Argv.end());
  OneCommand DB(tooling::CompileCommand(Cwd, AbsSource, CommandLine, ""));
  tooling::ClangTool Tool(DB, {AbsSource}, std::make_shared<PCHContainerOperations>(),
                          llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem>(
                              llvm::vfs::createPhysicalFileSystem().release()));
  addParseArguments(Tool, runtimeIncludeDir(Exe));
  FirstError Diagnostics;
  Tool.setDiagnosticConsumer(&Diagnostics);
  std::vector<std::unique_ptr<ASTUnit>> ASTs;
  int Status = Tool.buildASTs(ASTs);
  if (Status != 0 || ASTs.size() != 1 || Diagnostics.getNumErrors())
    return {{}, "clang cannot parse it" +
                    (Diagnostics.Message.empty() ? "" : " (" + Diagnostics.Message + ")")};

  Options Opts{Root.Dir, Rules ? &*Rules : nullptr};
  Unit TU{0, RealSource.substr(Root.Dir.size() + 1)};
  Findings All;
  Instrumenter Callback(Opts, TU, All);
  ast_matchers::MatchFinder Finder;
  Callback.registerMatchers(Finder);
  Finder.matchAST(ASTs.front()->getASTContext());
  All.resolve();
  if (All.Insertions.empty())
    return {};

  // The mirror: every file of the project this unit read, at its own path under Temp, each
  // opening with a #line naming the original (diagnostics, __FILE__ and debug info point
  // there) and the rewritten ones with their scopes. Copies, not symlinks: a header's
  // `#include "x.h"` then finds the instrumented sibling first.
  const SourceManager &SM = ASTs.front()->getSourceManager();
  OptionalFileEntryRef MainEntry = SM.getFileEntryRefForID(SM.getMainFileID());
  std::set<std::string> Mirrored;
  for (auto It = SM.fileinfo_begin(); It != SM.fileinfo_end(); ++It) {
    FileEntryRef Entry = It->first;
    std::string Real = Entry.getFileEntry().tryGetRealPathName().str();
    if (Real.empty())
      Real = realPath(Entry.getName().str());
    if (Real.empty() || !isUnder(Real, Root.Dir))
      continue;
    bool IsMain = MainEntry && Entry.getFileEntry().getUID() == MainEntry->getFileEntry().getUID();
    std::string Shown = IsMain ? SourceArg : Entry.getName().str();
    std::string Path = IsMain ? AbsSource : lexicallyAbsolute(Cwd, Entry.getName());
    std::string Content, Error;
    if (!readFile(Real, Content, Error))
      return {{}, Error};
    std::map<unsigned, std::string> Edits;
    if (auto Found = All.Insertions.find(Real); Found != All.Insertions.end())
      Edits = Found->second;
    std::string Prefix = (!Edits.empty() && !hasIncludeBlock(Content)
                              ? "#include \"scopeprof/scope.h\" /* scopeprof */\n"
                              : "") +
                         std::string("#line 1 ") + quoted(Shown) + "\n";
    Edits[static_cast<unsigned>(includeBlockOffset(Content))].insert(0, Prefix);
    std::string Dest = Temp + Path;
    if (std::error_code EC = llvm::sys::fs::create_directories(llvm::sys::path::parent_path(Dest)))
      return {{}, "cannot create '" + llvm::sys::path::parent_path(Dest).str() + "': " + EC.message()};
    if (!writeFileAtomically(Dest, applyInsertions(Content, Edits), Error))
      return {{}, Error};
    Mirrored.insert(Path);
  }
  if (!Mirrored.count(AbsSource))
    return {{}, "clang did not read it as '" + SourceArg + "'"};

  // The user's command on the mirror: the source replaced, each include directory of the
  // project searched in the mirror just before the original (so the order of directories is
  // kept), forced includes of the project taken from the mirror.
  std::map<size_t, std::vector<std::string>> Before;
  for (const auto &Dir : Cmd.IncludeDirs) {
    std::string Abs = lexicallyAbsolute(Cwd, Dir.Dir);
    std::string Real = realPath(Abs);
    if (!Real.empty() && (Real == Root.Dir || isUnder(Real, Root.Dir)))
      Before[Dir.Index] = {Dir.Flag, Temp + Abs};
  }
  std::vector<std::string> Argv;
  for (size_t I = 0; I < Cmd.Argv.size(); ++I) {
    if (auto B = Before.find(I); B != Before.end())
      Argv.insert(Argv.end(), B->second.begin(), B->second.end());
    std::string Arg = Cmd.Argv[I];
    if (I == Cmd.Source)
      Arg = Temp + AbsSource;
    else if (std::find(Cmd.ForcedIncludes.begin(), Cmd.ForcedIncludes.end(), I) !=
                 Cmd.ForcedIncludes.end() &&
             Mirrored.count(lexicallyAbsolute(Cwd, Arg)))
      Arg = Temp + lexicallyAbsolute(Cwd, Arg);
    Argv.push_back(Arg);
  }
  Argv.push_back("-idirafter");
  Argv.push_back(runtimeIncludeDir(Exe));
  Argv.push_back("-ffile-prefix-map=" + Temp + "=");
  return {Argv, ""};
}

/// The compiler's dependency file names the mirror: name the originals, or the build would
/// find its inputs gone and compile again every time.
void unmirrorDepFile(const std::string &DepFile, const std::string &Temp) {
  std::string Content, Error;
  if (!readFile(DepFile, Content, Error))
    return;
  std::string Out;
  for (size_t At = 0, Found; At < Content.size(); At = Found + Temp.size()) {
    Found = Content.find(Temp, At);
    Out.append(Content, At, Found == std::string::npos ? std::string::npos : Found - At);
    if (Found == std::string::npos)
      break;
  }
  writeFileAtomically(DepFile, Out, Error);
}

int compile(const CompilerCommand &Cmd, const std::string &Exe) {
  const std::string &Source = Cmd.Argv[Cmd.Source];
  llvm::SmallString<128> TempBuf;
  if (std::error_code EC = llvm::sys::fs::createUniqueDirectory("scopeprof-cc", TempBuf)) {
    note("'" + Source + "': cannot create a temporary directory (" + EC.message() +
         "); compiled without profiling");
    return execCompiler(Cmd.Argv);
  }
  std::string Temp = realPath(std::string(TempBuf));
  Plan P = instrument(Cmd, Temp, Exe);
  if (P.Argv.empty()) {
    if (!P.Why.empty())
      note("'" + Source + "': " + P.Why + "; compiled without profiling");
    llvm::sys::fs::remove_directories(Temp);
    return execCompiler(Cmd.Argv);
  }
  std::string Stderr = Temp + ".stderr";
  int Status = runCompiler(P.Argv, Stderr);
  std::string Messages, Error;
  readFile(Stderr, Messages, Error);
  llvm::sys::fs::remove(Stderr);
  if (Status == 0) {
    llvm::errs() << Messages;
    if (Cmd.DepFile)
      unmirrorDepFile(*Cmd.DepFile, Temp);
    llvm::sys::fs::remove_directories(Temp);
    return 0;
  }
  llvm::sys::fs::remove_directories(Temp);
  // Ours or the user's, the failure is judged by the compile as given: a real error in the
  // code shows as the compiler reports it on the original.
  llvm::StringRef First = llvm::StringRef(Messages).split('\n').first;
  for (llvm::StringRef Line : llvm::split(llvm::StringRef(Messages), '\n'))
    if (Line.contains("error")) {
      First = Line;
      break;
    }
  note("'" + Source + "': the instrumented code did not compile" +
       (First.empty() ? std::string() : " (" + First.str() + ")") +
       "; compiled without profiling");
  return execCompiler(Cmd.Argv);
}

int link(CompilerCommand Cmd, const std::string &Exe) {
  if (!Cmd.Why.empty())
    note(Cmd.Why);
  if (Cmd.NoStdLib) {
    note("-nostdlib/-nodefaultlibs: the runtime is not added; link libscopeprof yourself");
    return execCompiler(Cmd.Argv);
  }
  // The shared runtime, found through an rpath: one recorder per process however many
  // instrumented libraries it loads. pthread and dl come with it (its DT_NEEDED), and for
  // a -static link they are named.
  std::string LibDir = runtimeLibraryDir(Exe);
  for (std::string A : {"-L" + LibDir, "-Wl,-rpath," + LibDir, std::string("-lscopeprof"),
                        std::string("-lpthread"), std::string("-ldl")})
    Cmd.Argv.push_back(A);
  return execCompiler(Cmd.Argv);
}

} // namespace

int main(int Argc, const char **Argv) {
  if (Argc < 2) {
    llvm::errs() << "scopeprof: error: 'cc' needs a compiler to run\n"
                 << "usage: scopeprof cc COMPILER ARGS...   (e.g. "
                    "-DCMAKE_CXX_COMPILER_LAUNCHER='scopeprof;cc', or CXX='scopeprof cc g++')\n";
    return 2;
  }
  std::string Exe =
      llvm::sys::fs::getMainExecutable(Argv[0], reinterpret_cast<void *>(&execCompiler));
  CompilerCommand Cmd = scopeprof::launcher::classify({Argv + 1, Argv + Argc});
  switch (Cmd.What) {
  case CompilerCommand::Compile:
    return compile(Cmd, Exe);
  case CompilerCommand::Link:
    return link(std::move(Cmd), Exe);
  case CompilerCommand::PassThrough:
    break;
  }
  if (!Cmd.Why.empty())
    note("'" + Cmd.FirstInput + "': " + Cmd.Why + "; compiled without profiling");
  return execCompiler(Cmd.Argv);
}
