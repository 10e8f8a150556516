// The cost model behind the `trivial` skip: AST nodes of a body with its callees inlined.
#include "Triviality.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/AST/ExprConcepts.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Basic/Builtins.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Lex/Lexer.h"
#include "llvm/Support/Path.h"

#include <algorithm>

using namespace clang;

namespace scopeprof::rewrite {

/// Costs one body. Stops at the first construct that makes it non-trivial.
class BodyCost {
public:
  BodyCost(TrivialityAnalyzer &A, const FunctionDecl *Def, bool RootInMainFile)
      : A(A), Ctx(A.Ctx), SM(Ctx.getSourceManager()), RootInMainFile(RootInMainFile),
        InPattern(Def->isDependentContext()), Def(Def) {}

  TrivialityAnalyzer::Cost run() {
    // A pattern's constructor or destructor also constructs or destroys members and bases it
    // does not name; of a dependent type, that may call anything.
    if (InPattern && isa<CXXConstructorDecl, CXXDestructorDecl>(Def))
      dependentMembers(cast<CXXMethodDecl>(Def)->getParent());
    if (const auto *Ctor = dyn_cast<CXXConstructorDecl>(Def))
      for (const CXXCtorInitializer *Init : Ctor->inits())
        initializer(Init);
    visit(Def->getBody());
    if (const auto *Dtor = dyn_cast<CXXDestructorDecl>(Def))
      destroyMembers(Dtor->getParent());
    return {Size, MeasuredCalls, std::move(MeasuredCallees), Why, Via};
  }

private:
  bool failed() const { return !Why.empty(); }

  void fail(const std::string &What, SourceLocation Loc = SourceLocation()) {
    if (failed())
      return;
    Why = What;
    if (Loc.isValid()) {
      PresumedLoc P = SM.getPresumedLoc(SM.getExpansionLoc(Loc));
      if (P.isValid())
        Why += " at " + llvm::sys::path::filename(P.getFilename()).str() + ":" +
               std::to_string(P.getLine());
    }
  }

  void add(unsigned N) {
    Size += N;
    if (Size > TrivialBudget)
      fail("larger than " + std::to_string(TrivialBudget) + " AST nodes inlined");
  }

  static std::string nameOf(const FunctionDecl *FD) {
    std::string Name = FD->getQualifiedNameAsString();
    return Name.empty() ? "a function" : "'" + Name + "'";
  }

  /// A definition in the main file is seen by this unit alone: it may count only for a
  /// function that is itself private to the unit.
  bool visibleEverywhere(const FunctionDecl *D) {
    FileID Fid = SM.getFileID(SM.getExpansionLoc(D->getLocation()));
    return Fid != SM.getMainFileID() || RootInMainFile;
  }

  /// Inlines a call of \p Callee, or says why it cannot be.
  void call(const FunctionDecl *Callee, SourceLocation Loc) {
    if (failed())
      return;
    add(1);
    if (Callee->isNoReturn())
      return; // a cold path: assert failures, aborts, the standard library's throw helpers
    if (unsigned ID = Callee->getBuiltinID()) {
      // Bit operations, atomics, hints, const library functions (abs) and pure ones that
      // take no pointer (the <ctype.h> classifiers and case mappings: a table lookup) are a
      // handful of instructions. So, for what a call to them costs, are the C library's
      // memory, string and math routines and the allocator: work bounded by their arguments
      // (docs/rules.md). I/O (printf, fwrite) and everything else may take any time or wait.
      const Builtin::Context &Builtins = Ctx.BuiltinInfo;
      bool Library = Builtins.isLibFunction(ID) || Builtins.isPredefinedLibFunction(ID);
      // The builtin's own signature, not the declaration's: an unprototyped C redeclaration
      // (`size_t strlen();`) has no parameters to look at.
      bool Cheap = Builtins.isConst(ID) ||
                   (Builtins.isPure(ID) &&
                    llvm::StringRef(Builtins.getTypeString(ID)).find('*') == llvm::StringRef::npos);
      if (Library && !Cheap && !boundedLibraryWork(ID))
        fail("calls " + nameOf(Callee) + " (a library builtin)", Loc);
      return;
    }
    if (Callee->isReplaceableGlobalAllocationFunction() || boundedLibraryOverload(Callee))
      return; // the allocator (`operator new`, `operator delete`), or <cstring>'s strchr
    // Every unit instantiates a template it calls outside a template, but inside one (a
    // dependent context) nothing is instantiated: judge such callees by their pattern.
    if (InPattern)
      if (const FunctionDecl *Pattern = Callee->getTemplateInstantiationPattern())
        Callee = Pattern;
    // A callee that is not trivial but has a scope of its own is measured there, wherever its
    // body is: only the call counts here. A trivial one is inlined.
    const FunctionDecl *Body = nullptr;
    if (!Callee->hasBody(Body) || !Body->getBody()) {
      if (!countIfMeasured(Callee, Loc))
        fail("calls " + nameOf(Callee) + " (no body visible)", Loc);
      return;
    }
    if (!visibleEverywhere(Body)) {
      if (!countIfMeasured(Callee, Loc))
        fail("calls " + nameOf(Callee) + " (defined in one translation unit only)", Loc);
      return;
    }
    if (InPattern && Body->isDefaulted() && !Body->isTrivial()) {
      // Defined implicitly only by the units that use it outside a template.
      fail("calls the implicit " + nameOf(Callee) + " inside a template", Loc);
      return;
    }
    const TrivialityAnalyzer::Cost &C = A.costOf(Body, RootInMainFile);
    if (C.Why == TrivialityAnalyzer::InProgress) {
      Why = "recursion through " + nameOf(Callee);
      return;
    }
    if (!C.Why.empty()) {
      if (countIfMeasured(Callee, Loc))
        return;
      // The innermost reason says what it is; the callee says where it came from.
      Why = C.Why;
      Via = nameOf(Callee);
      return;
    }
    add(C.Size);
    MeasuredCallees.insert(C.MeasuredCallees.begin(), C.MeasuredCallees.end());
    countMeasured(C.MeasuredCalls, Loc);
  }

  /// A library builtin from <string.h>, <strings.h>, <stdlib.h>, <malloc.h>, <math.h>,
  /// <complex.h> or <ctype.h>, or the `__builtin_` spelling of one (`__builtin_strchr`, as
  /// glibc's headers call it): memory, strings, numbers, the allocator.
  bool boundedLibraryWork(unsigned ID) {
    const Builtin::Context &Builtins = Ctx.BuiltinInfo;
    llvm::StringRef Name = Builtins.getName(ID);
    if (Name.consume_front("__builtin_")) {
      const IdentifierInfo &Plain = Ctx.Idents.get(Name);
      if (!Plain.getBuiltinID())
        return false;
      ID = Plain.getBuiltinID();
    }
    const char *Header = Builtins.getHeaderName(ID);
    if (!Header)
      return false;
    static const std::set<llvm::StringRef> Bounded = {
        "string.h", "strings.h", "stdlib.h", "malloc.h", "math.h", "complex.h", "ctype.h"};
    return Bounded.count(Header) != 0;
  }

  /// A C++ overload of such a builtin that is not one itself, declared in a system header:
  /// glibc's `const char *strchr(const char *, int)`.
  bool boundedLibraryOverload(const FunctionDecl *Callee) {
    const IdentifierInfo *Id = Callee->getIdentifier();
    return Id && Id->getBuiltinID() && SM.isInSystemHeader(Callee->getLocation()) &&
           boundedLibraryWork(Id->getBuiltinID());
  }

  /// Counts a call of a function with a scope of its own, if \p Callee has one.
  bool countIfMeasured(const FunctionDecl *Callee, SourceLocation Loc) {
    std::optional<std::string> Scope = A.ScopeOf(Callee);
    if (!Scope)
      return false;
    MeasuredCallees.insert(std::move(*Scope));
    countMeasured(1, Loc);
    return true;
  }

  void countMeasured(unsigned N, SourceLocation Loc) {
    MeasuredCalls += N;
    if (MeasuredCalls > MaxMeasuredCalls)
      fail("calls more than " + std::to_string(MaxMeasuredCalls) + " measured functions", Loc);
  }

  void destroy(QualType T, SourceLocation Loc) {
    T = T.getCanonicalType();
    if (T->isReferenceType())
      return;
    if (const ArrayType *AT = Ctx.getAsArrayType(T)) {
      if (!AT->getElementType().isDestructedType())
        return;
      return fail("destroys an array of objects", Loc);
    }
    if (T.isDestructedType() != QualType::DK_cxx_destructor)
      return;
    if (const CXXRecordDecl *RD = T->getAsCXXRecordDecl())
      if (const CXXDestructorDecl *Dtor = RD->getDestructor())
        call(Dtor, Loc);
  }

  /// What an implicit or written destructor does after its body.
  void destroyMembers(const CXXRecordDecl *RD) {
    for (const FieldDecl *F : RD->fields())
      destroy(F->getType(), F->getLocation());
    for (const CXXBaseSpecifier &B : RD->bases())
      destroy(B.getType(), B.getBeginLoc());
  }

  void dependentMembers(const CXXRecordDecl *RD) {
    for (const FieldDecl *F : RD->fields())
      if (dependentValue(F->getType()))
        return fail("a member of dependent type (may call anything)", F->getLocation());
    for (const CXXBaseSpecifier &B : RD->bases())
      if (B.getType()->isDependentType())
        return fail("a base of dependent type (may call anything)", B.getBeginLoc());
  }

  void initializer(const CXXCtorInitializer *Init) {
    if (InPattern && Init->isAnyMemberInitializer() &&
        dependentValue(Init->getAnyMember()->getType()))
      return fail("initializes a member of dependent type", Init->getSourceLocation());
    visit(Init->getInit());
  }

  /// A value of this type may be constructed, copied or destroyed by code unknown until the
  /// template is instantiated.
  static bool dependentValue(QualType T) {
    return T->isDependentType() && !T->isReferenceType() && !T->isPointerType();
  }

  /// An operand of this type cannot reach an overloaded operator.
  static bool builtinOperand(QualType T) {
    if (T->isPointerType() || T->isArrayType())
      return true;
    return !T->isDependentType() && !T->isRecordType() && !T->isEnumeralType();
  }

  /// `p[i]` or `*p` on a pointer: an element reached without an operator of its type.
  static bool elementThroughPointer(const Expr *E) {
    E = E->IgnoreParens();
    if (const auto *Sub = dyn_cast<ArraySubscriptExpr>(E))
      return builtinOperand(Sub->getBase()->getType()) && builtinOperand(Sub->getIdx()->getType());
    const auto *U = dyn_cast<UnaryOperator>(E);
    return U && U->getOpcode() == UO_Deref && U->getSubExpr()->getType()->isPointerType();
  }

  /// In a template pattern, the type-dependent expressions that cannot call anything,
  /// whatever the template arguments: names, member access, pointer arithmetic. One exception
  /// is taken: the address of an element reached through a pointer (`&mem[size]` in a
  /// container's push) would call the element type's unary `operator&` if it had one, which
  /// classes almost never do (generic code that must not call it uses std::addressof).
  static bool harmlessDependent(const Expr *E) {
    if (isa<DeclRefExpr, MemberExpr, DependentScopeDeclRefExpr, CXXThisExpr, ParenExpr,
            UnresolvedLookupExpr, UnresolvedMemberExpr, SizeOfPackExpr, PackExpansionExpr>(E))
      return true;
    if (const auto *M = dyn_cast<CXXDependentScopeMemberExpr>(E))
      return !M->isArrow() || M->isImplicitAccess() || M->getBase()->getType()->isPointerType();
    if (isa<ArraySubscriptExpr>(E))
      return elementThroughPointer(E);
    if (isa<ImplicitCastExpr>(E)) // reading a pointer: `*P` reads P first
      return E->getType()->isPointerType();
    if (const auto *Cast = dyn_cast<ExplicitCastExpr>(E)) // `static_cast<Item *>(Mem)`
      return Cast->getType()->isPointerType() && builtinOperand(Cast->getSubExpr()->getType());
    if (const auto *U = dyn_cast<UnaryOperator>(E))
      return U->getOpcode() == UO_AddrOf ? elementThroughPointer(U->getSubExpr())
                                         : builtinOperand(U->getSubExpr()->getType());
    if (const auto *B = dyn_cast<BinaryOperator>(E))
      return builtinOperand(B->getLHS()->getType()) && builtinOperand(B->getRHS()->getType());
    return false;
  }

  /// Nodes that produce no code of their own.
  static bool countsAsWork(const Stmt *S) {
    return !isa<ParenExpr, ImplicitCastExpr, FullExpr, MaterializeTemporaryExpr,
                CXXBindTemporaryExpr, CompoundStmt, NullStmt, DeclStmt, CXXDefaultArgExpr,
                CXXDefaultInitExpr, SubstNonTypeTemplateParmExpr, AttributedStmt>(S);
  }

  /// The statements the rewriter inserted (`SCOPEPROF_FN(...)` expands to two declarations)
  /// are not the function's code: a rewritten tree must get the same decisions again.
  bool isInsertedScope(const Stmt *S) {
    SourceLocation Loc = S->getBeginLoc();
    return Loc.isMacroID() &&
           Lexer::getImmediateMacroName(Loc, SM, Ctx.getLangOpts()) == "SCOPEPROF_FN";
  }

  void visitChildren(const Stmt *S) {
    for (const Stmt *Child : S->children())
      visit(Child);
  }

  void visit(const Stmt *S) {
    if (!S || failed())
      return;
    if (countsAsWork(S))
      add(1);
    SourceLocation Loc = S->getBeginLoc();
    if (isa<ForStmt, WhileStmt, DoStmt, CXXForRangeStmt>(S))
      return fail("loop", Loc);
    if (isa<GotoStmt, IndirectGotoStmt>(S))
      return fail("goto", Loc);
    if (isa<CXXTryStmt>(S))
      return fail("try/catch", Loc);
    if (isa<CXXThrowExpr>(S))
      return fail("throw", Loc);
    if (isa<CoroutineBodyStmt, CoreturnStmt, CoroutineSuspendExpr, DependentCoawaitExpr>(S))
      return fail("coroutine", Loc);
    if (isa<AsmStmt>(S))
      return fail("inline assembly", Loc);
    if (isa<CXXDynamicCastExpr>(S))
      return fail("dynamic_cast", Loc);
    // Unevaluated or evaluated at compile time: no code.
    if (isa<UnaryExprOrTypeTraitExpr, CXXNoexceptExpr, ConstantExpr, TypeTraitExpr,
            RequiresExpr, ConceptSpecializationExpr>(S))
      return;
    if (const auto *Typeid = dyn_cast<CXXTypeidExpr>(S);
        Typeid && !Typeid->isPotentiallyEvaluated())
      return;
    if (const auto *E = dyn_cast<Expr>(S); E && InPattern && E->isTypeDependent() &&
                                           !isa<CallExpr>(E) && !harmlessDependent(E))
      return fail("an expression of dependent type (may call anything)", Loc);
    // `static_cast<int>(Value)` has a type of its own, but a T may convert itself by a call.
    if (const auto *Cast = dyn_cast<ExplicitCastExpr>(S);
        Cast && InPattern && Cast->getSubExpr()->isTypeDependent() &&
        !builtinOperand(Cast->getSubExpr()->getType()))
      return fail("a conversion of a value of dependent type (may call anything)", Loc);

    if (const auto *C = dyn_cast<CompoundStmt>(S)) {
      for (const Stmt *Child : C->body())
        if (!isInsertedScope(Child))
          visit(Child);
      return;
    }
    if (const auto *If = dyn_cast<IfStmt>(S); If && If->isConstexpr() && !InPattern) {
      visit(If->getInit());
      if (std::optional<const Stmt *> Taken = If->getNondiscardedCase(Ctx))
        visit(*Taken);
      return;
    }
    if (const auto *Decls = dyn_cast<DeclStmt>(S)) {
      for (const Decl *D : Decls->decls())
        if (const auto *VD = dyn_cast<VarDecl>(D))
          variable(VD);
      return;
    }
    if (const auto *Ret = dyn_cast<ReturnStmt>(S); Ret && InPattern && Ret->getRetValue() &&
                                                   Ret->getRetValue()->isTypeDependent() &&
                                                   dependentValue(Def->getReturnType()))
      return fail("returns a value of dependent type", Loc);
    if (const auto *Lambda = dyn_cast<LambdaExpr>(S)) {
      // Making the closure runs only its captures' initializers; the body runs when called.
      for (const Expr *Init : Lambda->capture_inits())
        visit(Init);
      return;
    }
    if (const auto *Arg = dyn_cast<CXXDefaultArgExpr>(S))
      return visit(Arg->getExpr());
    if (const auto *Init = dyn_cast<CXXDefaultInitExpr>(S))
      return visit(Init->getExpr());
    if (const auto *Bind = dyn_cast<CXXBindTemporaryExpr>(S)) {
      if (const CXXDestructorDecl *Dtor = Bind->getTemporary()->getDestructor())
        call(Dtor, Loc);
      return visit(Bind->getSubExpr());
    }
    if (const auto *Construct = dyn_cast<CXXConstructExpr>(S)) {
      const CXXConstructorDecl *Ctor = Construct->getConstructor();
      if (Ctx.getAsArrayType(Construct->getType()))
        return fail("constructs an array of objects", Loc);
      if (!Ctor->isTrivial())
        call(Ctor, Loc);
      return visitChildren(S);
    }
    if (const auto *Inherited = dyn_cast<CXXInheritedCtorInitExpr>(S))
      return call(Inherited->getConstructor(), Loc);
    if (const auto *New = dyn_cast<CXXNewExpr>(S)) {
      // Without an operator yet (inside a template) it is the allocator's, unknown.
      if (const FunctionDecl *OpNew = New->getOperatorNew())
        call(OpNew, Loc);
      else
        fail("allocates", Loc);
      return visitChildren(S);
    }
    if (const auto *Delete = dyn_cast<CXXDeleteExpr>(S)) {
      if (!Delete->getDestroyedType().isNull())
        destroy(Delete->getDestroyedType(), Loc);
      if (const FunctionDecl *OpDelete = Delete->getOperatorDelete())
        call(OpDelete, Loc);
      else
        fail("deallocates", Loc);
      return visitChildren(S);
    }
    if (const auto *Call = dyn_cast<CallExpr>(S)) {
      callExpr(Call);
      return visitChildren(S);
    }
    visitChildren(S);
  }

  void callExpr(const CallExpr *Call) {
    SourceLocation Loc = Call->getBeginLoc();
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      return fail(InPattern && Call->isTypeDependent() ? "a call resolved only per instantiation"
                                                        : "a call through a pointer",
                  Loc);
    if (const auto *MD = dyn_cast<CXXMethodDecl>(Callee); MD && MD->isVirtual()) {
      const Expr *Object = nullptr;
      bool Qualified = false;
      if (const auto *Member = dyn_cast<CXXMemberCallExpr>(Call)) {
        Object = Member->getImplicitObjectArgument();
        if (const auto *ME = dyn_cast<MemberExpr>(Member->getCallee()->IgnoreParens()))
          Qualified = ME->hasQualifier();
      } else if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(Call)) {
        Object = Op->getArg(0);
      }
      // A qualified call (Base::f()) is direct; otherwise only a final class or method, or an
      // object of known dynamic type, makes it so.
      const CXXMethodDecl *Direct =
          Qualified ? MD : Object ? MD->getDevirtualizedMethod(Object, false) : nullptr;
      // Otherwise, if the method is the project's, every override is either measured by its
      // own scope or trivial, short: the call counts as a measured one. Not one whose scope
      // must exist (MeasuredCallees): the overrides are the open set, and any may be trivial.
      if (!Direct) {
        if (const auto *Self = dyn_cast<CXXMethodDecl>(Def); Self && isOrOverrides(Self, MD))
          return fail("recursion through the virtual " + nameOf(MD), Loc);
        if (!A.ScopeOf(MD))
          return fail("a virtual call to " + nameOf(MD) + " (not the project's)", Loc);
        return countMeasured(1, Loc);
      }
      Callee = Direct;
    }
    call(Callee, Loc);
  }

  /// \p M is \p Target or one of its overriders.
  static bool isOrOverrides(const CXXMethodDecl *M, const CXXMethodDecl *Target) {
    if (M->getCanonicalDecl() == Target->getCanonicalDecl())
      return true;
    for (const CXXMethodDecl *Overridden : M->overridden_methods())
      if (isOrOverrides(Overridden, Target))
        return true;
    return false;
  }

  void variable(const VarDecl *VD) {
    SourceLocation Loc = VD->getLocation();
    if (VD->isStaticLocal() || VD->getTLSKind() != VarDecl::TLS_None) {
      // Initialized once, behind a guard, unless the compiler does it.
      if (VD->hasInit() && !VD->isConstexpr() &&
          (InPattern || !VD->hasConstantInitialization()))
        fail("a static local with a dynamic initializer", Loc);
      return;
    }
    if (InPattern && dependentValue(VD->getType()))
      return fail("a variable of dependent type", Loc);
    add(1);
    if (!VD->isConstexpr())
      visit(VD->getInit());
    destroy(VD->getType(), Loc);
  }

  TrivialityAnalyzer &A;
  ASTContext &Ctx;
  const SourceManager &SM;
  bool RootInMainFile;
  bool InPattern;
  const FunctionDecl *Def;
  unsigned Size = 0;
  unsigned MeasuredCalls = 0;
  std::set<std::string> MeasuredCallees;
  std::string Why;
  std::string Via;
};

const TrivialityAnalyzer::Cost &TrivialityAnalyzer::costOf(const FunctionDecl *Def,
                                                          bool RootInMainFile) {
  auto Key = std::make_pair(Def, RootInMainFile);
  if (auto It = Memo.find(Key); It != Memo.end())
    return It->second;
  static const Cost Recursion{0, 0, {}, InProgress, ""};
  if (!Active.insert(Key).second)
    return Recursion;
  Cost C = BodyCost(*this, Def, RootInMainFile).run();
  Active.erase(Key);
  return Memo[Key] = std::move(C);
}

std::vector<const FunctionDecl *>
TrivialityAnalyzer::instancesOf(const FunctionDecl *Pattern) {
  std::vector<const FunctionDecl *> Out;
  auto Add = [&](const FunctionDecl *I) {
    const FunctionDecl *From = I->getTemplateInstantiationPattern();
    if (From && From->getCanonicalDecl() == Pattern->getCanonicalDecl() && I->hasBody())
      Out.push_back(I);
  };
  auto AddAll = [&](const FunctionTemplateDecl *FT) {
    for (const FunctionDecl *I : FT->specializations())
      Add(I);
  };
  if (const FunctionTemplateDecl *FT = Pattern->getDescribedFunctionTemplate())
    AddAll(FT);
  // A member of a class template: each specialization has its own instance of it, or, for a
  // member template, its own template whose specializations are the instances. (Members of
  // partial specializations and of classes nested in a template are not looked for: their
  // patterns keep their own verdict.)
  if (const auto *MD = dyn_cast<CXXMethodDecl>(Pattern))
    if (const ClassTemplateDecl *CT = MD->getParent()->getDescribedClassTemplate())
      for (const ClassTemplateSpecializationDecl *Spec : CT->specializations())
        for (const Decl *D : Spec->decls()) {
          if (const auto *I = dyn_cast<FunctionDecl>(D))
            Add(I);
          else if (const auto *FT = dyn_cast<FunctionTemplateDecl>(D))
            AddAll(FT);
        }
  return Out;
}

std::string TrivialityAnalyzer::reasonOf(const Cost &C) {
  return C.Via.empty() ? C.Why : "via " + C.Via + ": " + C.Why;
}

Triviality TrivialityAnalyzer::judge(const FunctionDecl *FD) {
  const SourceManager &SM = Ctx.getSourceManager();
  bool InMain = SM.getFileID(SM.getExpansionLoc(FD->getLocation())) == SM.getMainFileID();
  const Cost &C = costOf(FD, InMain);
  Triviality T{C.Why.empty(), C.Size, reasonOf(C),
               C.Why.empty() ? C.MeasuredCallees : std::set<std::string>{}};
  if (T.Trivial || !FD->isDependentContext())
    return T;
  // A pattern may be instantiated with any type, and an operation on a `T` may call anything.
  // The unit's instantiations are all the code it compiles of it: a container's
  // `EnsureCapacity` copying `char`s or pointers is trivial however its pattern reads.
  std::vector<const FunctionDecl *> Instances = instancesOf(FD);
  if (Instances.empty()) {
    T.Undecided = true;
    return T;
  }
  T.Instances = static_cast<unsigned>(Instances.size());
  Triviality ByInstances{true, 0, "", {}, T.Instances};
  for (const FunctionDecl *I : Instances) {
    const Cost &IC = costOf(I, InMain);
    if (!IC.Why.empty()) {
      T.Why = "in its instantiation '" + I->getQualifiedNameAsString() + "': " + reasonOf(IC);
      return T;
    }
    ByInstances.Size = std::max(ByInstances.Size, IC.Size);
    ByInstances.MeasuredCallees.insert(IC.MeasuredCallees.begin(), IC.MeasuredCallees.end());
  }
  return ByInstances;
}

} // namespace scopeprof::rewrite
