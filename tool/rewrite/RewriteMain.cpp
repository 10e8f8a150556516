// scopeprof-rewrite: the LibTooling driver behind `scopeprof rewrite`.
#include "scopeprof/Version.h"

#include "clang/AST/ASTContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/ASTMatchers/ASTMatchers.h"
#include "clang/Tooling/ArgumentsAdjusters.h"
#include "clang/Tooling/CommonOptionsParser.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace {

llvm::cl::OptionCategory Category("scopeprof-rewrite options");
llvm::cl::opt<bool> List("list", llvm::cl::desc("List the function definitions found; write nothing"),
                         llvm::cl::cat(Category));

class ListCallback : public MatchFinder::MatchCallback {
public:
  void run(const MatchFinder::MatchResult &Result) override {
    const auto *FD = Result.Nodes.getNodeAs<FunctionDecl>("fn");
    const SourceManager &SM = *Result.SourceManager;
    if (!SM.isWrittenInMainFile(SM.getSpellingLoc(FD->getLocation())))
      return;
    llvm::outs() << FD->getQualifiedNameAsString() << " "
                 << SM.getSpellingLineNumber(FD->getLocation()) << "\n";
  }
};

} // namespace

int main(int Argc, const char **Argv) {
  llvm::cl::SetVersionPrinter(
      [](llvm::raw_ostream &OS) { OS << "scopeprof-rewrite " << SCOPEPROF_VERSION << "\n"; });
  auto Options = tooling::CommonOptionsParser::create(Argc, Argv, Category);
  if (!Options) {
    llvm::errs() << "scopeprof: error: " << llvm::toString(Options.takeError()) << "\n";
    return 2;
  }
  tooling::ClangTool Tool(Options->getCompilations(), Options->getSourcePathList());
  Tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster(
      "-resource-dir=" SCOPEPROF_CLANG_RESOURCE_DIR, tooling::ArgumentInsertPosition::END));

  ListCallback Callback;
  MatchFinder Finder;
  Finder.addMatcher(functionDecl(isDefinition()).bind("fn"), &Callback);
  return Tool.run(tooling::newFrontendActionFactory(&Finder).get());
}
