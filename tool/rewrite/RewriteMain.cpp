// scopeprof-rewrite: the LibTooling driver behind `scopeprof rewrite`. Parses options, runs the
// Instrumenter over every translation unit (in parallel), merges the edits and writes them.
#include "FileEdits.h"
#include "Instrumenter.h"
#include "ProjectRoot.h"
#include "Toolchain.h"
#include "scopeprof/Version.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Tooling/ArgumentsAdjusters.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/VirtualFileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

using namespace clang;
using namespace scopeprof::rewrite;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory Category("scopeprof-rewrite options");
cl::opt<std::string> BuildPath("p", cl::desc("Build directory with compile_commands.json"),
                               cl::value_desc("BUILD_DIR"), cl::cat(Category));
cl::list<std::string> Inputs(cl::Positional, cl::desc("[FILE|DIR...]"), cl::cat(Category));
cl::opt<std::string> RootOpt("root", cl::desc("Project root: site keys are relative to it and only "
                                              "files under it are edited (default: "
                                              "$SCOPEPROF_ROOT, else the git work tree, else "
                                              "CMake's top source directory, else the common "
                                              "directory of the inputs; docs/rules.md)"),
                             cl::value_desc("DIR"), cl::cat(Category));
cl::opt<std::string> RulesOpt("rules", cl::desc("Rules file (default: the nearest .scopeprof "
                                                "upwards from the inputs' common directory)"),
                              cl::value_desc("FILE"), cl::cat(Category));
cl::opt<bool> InPlace("in-place", cl::desc("Rewrite the files in place"), cl::cat(Category));
cl::opt<std::string> OutDir("out-dir", cl::desc("Write a rewritten mirror of the root here"),
                            cl::value_desc("DIR"), cl::cat(Category));
cl::opt<bool> Diff("diff", cl::desc("Print a unified diff; write nothing"), cl::cat(Category));
cl::opt<bool> List("list", cl::desc("List every function and whether it is instrumented; write "
                                    "nothing"),
                   cl::cat(Category));
cl::opt<bool> Explain("explain", cl::desc("Like --list, with the reason or rule that decided"),
                      cl::cat(Category));
cl::opt<bool> Strip("strip", cl::desc("Remove what a rewrite added, in place"), cl::cat(Category));
// Prefix: `-j2` as well as `-j 2` (a plain single-letter option takes `-j2` for a group). A
// string, checked in main(): LLVM prints a bad number in its own words, past our stream.
cl::opt<std::string> Jobs("j", cl::Prefix, cl::desc("Translation units parsed in parallel "
                                                    "(default: the number of cores)"),
                          cl::value_desc("N"), cl::cat(Category));
unsigned JobCount = 0;
cl::opt<bool> KeepGoing("keep-going", cl::desc("Write what parsed even if some translation "
                                               "units failed"),
                        cl::cat(Category));
cl::opt<bool> Quiet("quiet", cl::desc("No progress or summary on stderr"), cl::cat(Category));

int fail(const std::string &Message) {
  llvm::errs() << "scopeprof: error: " << Message << "\n";
  return 1;
}

int usage(const std::string &Message) {
  llvm::errs() << "scopeprof: error: " << Message << "\n"
               << "usage: scopeprof rewrite (-p BUILD_DIR | ... -- FLAGS) [FILE|DIR...] "
                  "(--in-place | --out-dir DIR | --diff | --list | --explain | --strip)\n";
  return 2;
}

bool isSourceFile(llvm::StringRef Path) {
  llvm::StringRef Ext = llvm::sys::path::extension(Path);
  for (const char *E : {".c", ".cc", ".cpp", ".cxx", ".c++", ".h", ".hh", ".hpp", ".hxx", ".h++",
                        ".inl", ".ipp", ".tcc"})
    if (Ext == E)
      return true;
  return false;
}

/// Every source file under \p Root (for --strip and --out-dir), skipping \p Exclude.
std::vector<std::string> filesUnder(const std::string &Root, const std::string &Exclude, bool SourcesOnly) {
  std::vector<std::string> Out;
  std::error_code EC;
  for (llvm::sys::fs::recursive_directory_iterator It(Root, EC), End; It != End && !EC;
       It.increment(EC)) {
    if (!Exclude.empty() && (It->path() == Exclude || isUnder(It->path(), Exclude))) {
      It.no_push();
      continue;
    }
    if (It->type() == llvm::sys::fs::file_type::regular_file &&
        (!SourcesOnly || isSourceFile(It->path())))
      Out.push_back(It->path());
  }
  std::sort(Out.begin(), Out.end());
  return Out;
}

int runStrip(const std::string &Root) {
  unsigned Files = 0, Scopes = 0;
  for (const auto &Path : filesUnder(Root, "", true)) {
    std::string Content, Error;
    if (!readFile(Path, Content, Error))
      return fail(Error);
    unsigned Removed = 0;
    std::string Stripped = stripInstrumentation(Content, Removed);
    if (!Removed)
      continue;
    if (!writeFileAtomically(Path, Stripped, Error))
      return fail(Error);
    ++Files;
    Scopes += Removed;
  }
  if (!Quiet)
    llvm::errs() << "scopeprof: stripped " << Scopes << " insertion(s) from " << Files
                 << " file(s)\n";
  return 0;
}

/// A translation unit's name in messages, and its place in the stable order: relative to the
/// root (the same on every machine), absolute outside it.
std::string unitName(const std::string &File, const std::string &Root) {
  return isUnder(File, Root) ? File.substr(Root.size() + 1) : File;
}

/// Parses \p Files, each in its own ClangTool so that a failure is attributed to its file. The
/// index of a file in \p Files is its unit's rank (see Findings).
void parseAll(const tooling::CompilationDatabase &DB, const std::vector<std::string> &Files,
              const Options &Opts, Findings &All, std::vector<std::string> &Failed,
              std::set<std::string> &Untrusted) {
  std::string IncludeDir = runtimeIncludeDir(llvm::sys::fs::getMainExecutable(
      "scopeprof-rewrite", reinterpret_cast<void *>(&parseAll)));
  std::atomic<size_t> Next{0}, Done{0};
  std::mutex M;
  auto Worker = [&] {
    for (size_t I; (I = Next++) < Files.size();) {
      Findings Local;
      Unit TU{I, unitName(Files[I], Opts.Root)};
      Instrumenter Callback(Opts, TU, Local);
      ast_matchers::MatchFinder Finder;
      Callback.registerMatchers(Finder);
      // Each tool gets its own file system view, with its own working directory: the default
      // (the real one) sets the process's, which races between threads and sends a
      // translation unit's relative #includes to the other one's directory.
      tooling::ClangTool Tool(DB, {Files[I]}, std::make_shared<PCHContainerOperations>(),
                              llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem>(
                                  llvm::vfs::createPhysicalFileSystem().release()));
      addParseArguments(Tool, IncludeDir);
      int Status = Tool.run(tooling::newFrontendActionFactory(&Finder).get());
      std::lock_guard<std::mutex> G(M);
      if (!Quiet)
        llvm::errs() << "[" << ++Done << "/" << Files.size() << "] " << Files[I]
                     << (Status ? " (failed)" : "") << "\n";
      if (Status != 0) {
        // What a failed TU saw is not trusted: its files are not written (see --keep-going).
        Failed.push_back(Files[I]);
        Untrusted.insert(Files[I]);
        for (const auto &[Key, R] : Local.Reports)
          Untrusted.insert(Key.first);
      }
      for (auto &[Key, R] : Local.Reports)
        All.report(Key.first, Key.second, std::move(R));
      for (auto &[File, Hash] : Local.ContentHashes)
        All.ContentHashes.emplace(File, Hash);
    }
  };
  std::vector<std::thread> Threads;
  unsigned Count = JobCount ? JobCount : llvm::hardware_concurrency().compute_thread_count();
  for (size_t T = 0; T < std::min<size_t>(std::max(1u, Count), Files.size()); ++T)
    Threads.emplace_back(Worker);
  for (auto &T : Threads)
    T.join();
}

void printReports(const Findings &All, bool WithRules) {
  for (const auto &[Key, R] : All.Reports) {
    if (R.Reason == Skip::SystemHeader || R.Reason == Skip::OutsideRoot)
      continue; // not the project's: listing the standard library helps nobody
    llvm::outs() << R.File << ":" << R.Line << ": " << skipReasonName(R.Reason) << ": "
                 << R.Signature << " [" << scopeprof::rules::kindNames(R.Kinds) << "]";
    if (WithRules) {
      if (R.RuleLine)
        llvm::outs() << " (rule line " << R.RuleLine << ": " << R.RuleText << ")";
      else if (R.Reason == Skip::None || R.Reason == Skip::ExcludedByRule ||
               R.Reason == Skip::LambdaNotSelected)
        llvm::outs() << " (no rule matched: the default)";
      else if (R.Reason == Skip::Trivial)
        llvm::outs() << " (no trivial: rule matched: the default)";
      if (R.Judged && R.Cost.Trivial)
        llvm::outs() << " (trivial: " << R.Cost.Size << " of " << TrivialBudget
                     << " AST nodes inlined"
                     << (R.Cost.Instances ? ", judged by the instantiations of " + R.UnitName : "")
                     << ")";
      else if (R.Judged)
        llvm::outs() << " (not trivial: " << R.Cost.Why
                     << (R.Cost.Undecided ? "; no instantiation of it seen" : "") << ")";
      if (R.Reason == Skip::SharedBody)
        llvm::outs() << " (the body's scope went to " << R.SharedWith
                     << ", the first unit in sorted order)";
      if (!R.Others.empty()) {
        llvm::outs() << " (compiled differently: this is what " << R.UnitName
                     << " saw, the first unit in sorted order; ";
        const char *Sep = "";
        for (const auto &[Description, Who] : R.Others) {
          llvm::outs() << Sep << Who.UnitName << " saw " << Description;
          Sep = ", ";
        }
        llvm::outs() << ")";
      }
    }
    llvm::outs() << "\n";
  }
}

void printSummary(const Findings &All, const std::string &Root, size_t FilesWritten,
                  const char *Verb) {
  unsigned Counts[SkipReasonCount] = {};
  for (const auto &[Key, R] : All.Reports)
    ++Counts[static_cast<int>(R.Reason)];
  llvm::errs() << "scopeprof: " << FilesWritten << " file(s) " << Verb << ", " << Counts[0]
               << " function(s) instrumented";
  for (int I = 1; I < SkipReasonCount; ++I)
    if (Counts[I] && I != static_cast<int>(Skip::SystemHeader) &&
        I != static_cast<int>(Skip::OutsideRoot))
      llvm::errs() << ", " << Counts[I] << " " << skipReasonName(static_cast<Skip>(I));
  llvm::errs() << "\n";
  // The same code compiled differently by two units is legal (a macro renames a namespace, an
  // #if picks a declarator): the run goes on with the first unit's view, and says so.
  if (std::vector<const FunctionReport *> Divergent = All.divergent(); !Divergent.empty()) {
    llvm::errs() << "scopeprof: note: " << Divergent.size()
                 << " function(s) compiled differently by different translation units or "
                    "inclusions; each got what the first unit in sorted order saw:";
    for (size_t I = 0; I < Divergent.size() && I < 3; ++I) {
      const FunctionReport &R = *Divergent[I];
      llvm::errs() << (I ? "; " : " ") << R.File << ":" << R.Line << " '" << R.Signature << "' (";
      if (R.Reason == Skip::SharedBody)
        llvm::errs() << "its body's scope went to " << R.SharedWith << ")";
      else
        llvm::errs() << "from " << R.UnitName << ", not " << R.Others.begin()->second.UnitName
                     << "'s " << R.Others.begin()->first << ")";
    }
    llvm::errs() << (Divergent.size() > 3 ? "; ..." : "") << "; --explain shows each\n";
  }
  // Headers next to the sources (include/ beside src/) are easy to leave out by accident:
  // say where the skipped non-system functions live.
  std::map<std::string, unsigned> Outside;
  for (const auto &[Key, R] : All.Reports)
    if (R.Reason == Skip::OutsideRoot)
      ++Outside[llvm::sys::path::parent_path(R.File).str()];
  if (Outside.empty())
    return;
  std::vector<std::pair<std::string, unsigned>> Dirs(Outside.begin(), Outside.end());
  std::sort(Dirs.begin(), Dirs.end(), [](const auto &A, const auto &B) { return A.second > B.second; });
  llvm::errs() << "scopeprof: note: " << Counts[static_cast<int>(Skip::OutsideRoot)]
               << " function(s) outside the root '" << Root << "' were left alone:";
  for (size_t I = 0; I < Dirs.size() && I < 3; ++I)
    llvm::errs() << (I ? ", " : " ") << Dirs[I].first << " (" << Dirs[I].second << ")";
  if (Dirs.size() > 3)
    llvm::errs() << ", ...";
  llvm::errs() << "; --root or SCOPEPROF_ROOT takes in the project's own (docs/rules.md)\n";
}

} // namespace

int main(int Argc, const char **Argv) {
  cl::SetVersionPrinter(
      [](llvm::raw_ostream &OS) { OS << "scopeprof-rewrite " << SCOPEPROF_VERSION << "\n"; });
  cl::HideUnrelatedOptions(Category);
  std::string FixedError;
  std::unique_ptr<tooling::CompilationDatabase> DB =
      tooling::FixedCompilationDatabase::loadFromCommandLine(Argc, Argv, FixedError);
  // LLVM words its option errors as `scopeprof-rewrite: for the -j option: ...`, a line each:
  // say them in ours.
  std::string OptionErrors;
  llvm::raw_string_ostream OptionErrorStream(OptionErrors);
  if (!cl::ParseCommandLineOptions(Argc, Argv,
                                   "Inserts a profiling scope into every selected function.\n",
                                   &OptionErrorStream)) {
    llvm::StringRef First = llvm::StringRef(OptionErrorStream.str()).split('\n').first;
    First.consume_front("scopeprof-rewrite: ");
    First = First.split(".  Try:").first.rtrim(" .!");
    return usage(First.empty() ? "bad arguments" : First.substr(0, 1).lower() + First.substr(1).str());
  }

  if (!Jobs.empty() && (llvm::StringRef(Jobs).getAsInteger(10, JobCount) || JobCount == 0))
    return usage("-j needs a number of parallel jobs, not '" + Jobs + "'");

  int Modes = InPlace + !OutDir.empty() + Diff + List + Explain + Strip;
  if (Modes != 1)
    return usage("choose exactly one of --in-place, --out-dir DIR, --diff, --list, --explain or "
                 "--strip");

  // Inputs, made absolute and real.
  std::vector<std::string> Given;
  for (const auto &In : Inputs) {
    std::string Real = realPath(In);
    if (Real.empty())
      return fail("cannot read '" + In + "': No such file or directory");
    Given.push_back(Real);
  }

  if (Strip) {
    std::string Root = !RootOpt.empty() ? realPath(RootOpt) : Given.size() == 1 ? Given[0] : "";
    if (Root.empty() || !llvm::sys::fs::is_directory(Root))
      return fail("--strip needs a directory: --root DIR or one DIR argument");
    return runStrip(Root);
  }

  if (!DB) {
    if (BuildPath.empty())
      return usage("no compilation database: give -p BUILD_DIR (with compile_commands.json) or "
                   "compiler arguments after --");
    std::string Error;
    DB = tooling::CompilationDatabase::loadFromDirectory(BuildPath, Error);
    if (!DB)
      return fail("cannot load compile_commands.json from '" + BuildPath + "': " + Error);
  }

  // Translation units: the inputs, or every file of the database; directories expand to the
  // database's files under them.
  std::vector<std::string> DBFiles;
  for (const auto &F : DB->getAllFiles())
    if (std::string Real = realPath(F); !Real.empty())
      DBFiles.push_back(Real);
  std::vector<std::string> Files;
  std::string Root = RootOpt.empty() ? "" : realPath(RootOpt);
  if (!RootOpt.empty() && Root.empty())
    return fail("cannot read root '" + RootOpt + "': No such file or directory");
  if (Given.empty()) {
    for (const auto &F : DBFiles)
      if (Root.empty() || isUnder(F, Root))
        Files.push_back(F);
  }
  for (const auto &G : Given) {
    if (llvm::sys::fs::is_directory(G)) {
      for (const auto &F : DBFiles)
        if (isUnder(F, G))
          Files.push_back(F);
    } else if (BuildPath.empty() ||
               std::find(DBFiles.begin(), DBFiles.end(), G) != DBFiles.end()) {
      Files.push_back(G);
    } else {
      return fail("'" + G + "' is not in the compilation database '" + BuildPath +
                  "/compile_commands.json'");
    }
  }
  std::sort(Files.begin(), Files.end());
  Files.erase(std::unique(Files.begin(), Files.end()), Files.end());
  if (Files.empty())
    return fail("no translation units to process");
  // The root never depends on the rules file, so that adding one keeps every site key.
  std::string Common = commonDirectory(Files);
  if (Root.empty()) {
    ProjectRoot Chosen =
        chooseProjectRoot(Common, BuildPath.empty() ? "" : realPath(BuildPath), Common);
    if (Chosen.Dir.empty())
      return fail(Chosen.How);
    Root = Chosen.Dir;
  }
  std::string RulesPath = RulesOpt.empty() ? findRulesFile(Common) : std::string(RulesOpt);
  std::optional<scopeprof::rules::RuleSet> Rules;
  if (!RulesPath.empty()) {
    scopeprof::rules::RulesError Err;
    Rules = scopeprof::rules::RuleSet::load(RulesPath, &Err);
    if (!Rules) {
      llvm::errs() << "scopeprof: " << Err.format() << "\n";
      return 1;
    }
  }
  Options Opts{Root, Rules ? &*Rules : nullptr};
  // The stable order that decides between units compiling the same code differently: by name,
  // the units outside the root last, so that it is the same on every machine and at any -j.
  std::stable_sort(Files.begin(), Files.end(), [&Root](const std::string &A, const std::string &B) {
    return std::make_pair(!isUnder(A, Root), unitName(A, Root)) <
           std::make_pair(!isUnder(B, Root), unitName(B, Root));
  });

  Findings All;
  std::vector<std::string> Failed;
  std::set<std::string> Untrusted;
  parseAll(*DB, Files, Opts, All, Failed, Untrusted);
  All.resolve();

  if (List || Explain) {
    printReports(All, Explain);
    if (!Quiet)
      printSummary(All, Root, 0, "to rewrite");
    return Failed.empty() ? 0 : 1;
  }
  if (!Failed.empty() && !KeepGoing)
    return fail(std::to_string(Failed.size()) + " translation unit(s) failed to parse; nothing "
                "written (--keep-going writes the rest)");

  // Build every new content first: all or nothing.
  std::vector<std::pair<std::string, std::string>> Outputs; // path, new content
  std::vector<std::pair<std::string, std::string>> Originals;
  for (const auto &[File, Edits] : All.Insertions) {
    if (Edits.empty() || Untrusted.count(File) || !isUnder(File, Root))
      continue;
    std::string Content, Error;
    if (!readFile(File, Content, Error))
      return fail(Error);
    auto Hash = All.ContentHashes.find(File);
    if (Hash != All.ContentHashes.end() && Hash->second != contentHash(Content.data(), Content.size()))
      return fail("'" + File + "' changed on disk while it was being rewritten; nothing written");
    std::map<unsigned, std::string> WithBlock = Edits;
    // A file rewritten before has its block: a function new there gets only its scope.
    if (!hasIncludeBlock(Content))
      WithBlock[static_cast<unsigned>(includeBlockOffset(Content))].insert(0, IncludeBlock);
    Outputs.emplace_back(File, applyInsertions(Content, WithBlock));
    Originals.emplace_back(File, std::move(Content));
  }

  if (Diff) {
    for (size_t I = 0; I < Outputs.size(); ++I)
      llvm::outs() << unifiedDiff(Outputs[I].first.substr(Root.size() + 1), Originals[I].second,
                                  Outputs[I].second);
    if (!Quiet)
      printSummary(All, Root, Outputs.size(), "would be rewritten");
    return Failed.empty() ? 0 : 1;
  }

  if (!OutDir.empty()) {
    std::string Out = OutDir;
    if (std::error_code EC = llvm::sys::fs::create_directories(Out))
      return fail("cannot create --out-dir '" + Out + "': " + EC.message());
    Out = realPath(Out);
    // The mirror: the whole root (what the build needs), then the rewritten files on top.
    for (const auto &Src : filesUnder(Root, Out, false)) {
      std::string Dest = Out + Src.substr(Root.size());
      if (std::error_code EC = llvm::sys::fs::create_directories(llvm::sys::path::parent_path(Dest)))
        return fail("cannot create '" + llvm::sys::path::parent_path(Dest).str() + "': " + EC.message());
      if (std::error_code EC = llvm::sys::fs::copy_file(Src, Dest))
        return fail("cannot write '" + Dest + "': " + EC.message());
    }
    for (auto &[File, Content] : Outputs) {
      std::string Error;
      if (!writeFileAtomically(Out + File.substr(Root.size()), Content, Error))
        return fail(Error);
    }
  } else {
    // All or nothing: refuse before writing anything if any file cannot be written.
    for (auto &[File, Content] : Outputs) {
      llvm::sys::fs::file_status St;
      if (!llvm::sys::fs::status(File, St) && (St.permissions() & llvm::sys::fs::all_write) == 0)
        return fail("cannot write '" + File + "': the file is read-only; nothing written");
    }
    for (auto &[File, Content] : Outputs) {
      std::string Error;
      if (!writeFileAtomically(File, Content, Error))
        return fail(Error);
    }
  }
  if (!Quiet)
    printSummary(All, Root, Outputs.size(), "rewritten");
  if (!Failed.empty())
    llvm::errs() << "scopeprof: error: " << Failed.size()
                 << " translation unit(s) failed to parse; the files they include were not "
                    "written\n";
  return Failed.empty() ? 0 : 1;
}
