// Rules files: grammar, precedence, thresholds and error reporting.
#include "scopeprof/rules/Rules.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>

using namespace scopeprof::rules;

namespace {

RuleSet parseOk(const std::string &Text) {
  RulesError Err;
  auto Set = RuleSet::parse(Text, "test.rules", &Err);
  EXPECT_TRUE(Set) << Err.format();
  return Set ? *Set : RuleSet();
}

RulesError parseError(const std::string &Text) {
  RulesError Err;
  EXPECT_FALSE(RuleSet::parse(Text, "test.rules", &Err)) << Text;
  return Err;
}

Subject fn(const std::string &Name, unsigned Kinds = KindFree, const std::string &File = "src/a.cpp") {
  static std::string Storage[3];
  Storage[0] = Name;
  Storage[1] = Name + "()";
  Storage[2] = File;
  return {Storage[2], Storage[0], Storage[1], Kinds};
}

TEST(Rules, EmptySetIncludesEverythingByDefault) {
  RuleSet Set = parseOk("# nothing but a comment\n\n   \n");
  Decision D = Set.decide(fn("app::f"));
  EXPECT_TRUE(D.Included);
  EXPECT_EQ(D.DecidedBy, nullptr);
}

TEST(Rules, LastMatchingLineWins) {
  RuleSet Set = parseOk("exclude function:app::**\n"
                        "include function:app::net::*\n"
                        "exclude function:app::net::debug\n");
  EXPECT_FALSE(Set.decide(fn("app::core::run")).Included);
  EXPECT_EQ(Set.decide(fn("app::core::run")).DecidedBy->Line, 1u);
  EXPECT_TRUE(Set.decide(fn("app::net::send")).Included);
  EXPECT_EQ(Set.decide(fn("app::net::send")).DecidedBy->Line, 2u);
  EXPECT_FALSE(Set.decide(fn("app::net::debug")).Included);
  EXPECT_EQ(Set.decide(fn("app::net::debug")).DecidedBy->Line, 3u);
  EXPECT_TRUE(Set.decide(fn("other::f")).Included);
}

TEST(Rules, FileSelectorUsesProjectRelativePaths) {
  RuleSet Set = parseOk("exclude file:third_party/**\n");
  EXPECT_FALSE(Set.decide(fn("f", KindFree, "third_party/zlib/inflate.c")).Included);
  EXPECT_TRUE(Set.decide(fn("f", KindFree, "src/third_party.cpp")).Included);
}

TEST(Rules, SignatureSelectorSeesParameterTypes) {
  RuleSet Set = parseOk("exclude signature:app::f(const char *, *)\n");
  std::string Name = "app::f", Sig = "app::f(const char *, size_t)";
  EXPECT_FALSE(Set.decide({"a.cpp", Name, Sig, KindFree}).Included);
  std::string Sig2 = "app::f(int)";
  EXPECT_TRUE(Set.decide({"a.cpp", Name, Sig2, KindFree}).Included);
}

TEST(Rules, KindSelectorMatchesAnyOfAFunctionsKinds) {
  RuleSet Set = parseOk("exclude kind:{ctor,dtor}\nexclude kind:static\n");
  EXPECT_FALSE(Set.decide(fn("S::S", KindMethod | KindCtor)).Included);
  EXPECT_FALSE(Set.decide(fn("S::~S", KindMethod | KindDtor)).Included);
  EXPECT_FALSE(Set.decide(fn("S::make", KindMethod | KindStatic)).Included);
  EXPECT_TRUE(Set.decide(fn("S::run", KindMethod)).Included);
  EXPECT_EQ(parseOk("include kind:*").rules()[0].KindMask, (1u << KindCount) - 1);
}

TEST(Rules, GlobIsTheRestOfTheLineSoSpacesWork) {
  RuleSet Set = parseOk("exclude function: (anonymous namespace)::*   \n");
  EXPECT_EQ(Set.rules()[0].Text, "exclude function:(anonymous namespace)::*");
  EXPECT_FALSE(Set.decide(fn("(anonymous namespace)::helper")).Included);
}

TEST(Rules, HashInsideAGlobIsNotAComment) {
  RuleSet Set = parseOk("  # a comment\nexclude function:**::lambda#*\n");
  ASSERT_EQ(Set.rules().size(), 1u);
  EXPECT_FALSE(Set.decide(fn("app::run(int)::lambda#3", KindLambda)).Included);
}

TEST(Rules, TrivialFunctionsAreSkippedWithoutATrivialRule) {
  Decision D = parseOk("include function:**\n").keepTrivial(fn("ns::get"));
  EXPECT_FALSE(D.Included);
  EXPECT_EQ(D.DecidedBy, nullptr);
  EXPECT_FALSE(RuleSet().keepTrivial(fn("ns::get")).Included);
}

TEST(Rules, TrivialRulesKeepTrivialFunctionsLastMatchWins) {
  RuleSet Set = parseOk("include trivial:ns::get*\n"
                        "exclude trivial:ns::getSecret\n");
  EXPECT_TRUE(Set.keepTrivial(fn("ns::getName")).Included);
  EXPECT_EQ(Set.keepTrivial(fn("ns::getName")).DecidedBy->Line, 1u);
  EXPECT_FALSE(Set.keepTrivial(fn("ns::getSecret")).Included);
  EXPECT_EQ(Set.keepTrivial(fn("ns::getSecret")).DecidedBy->Line, 2u);
  EXPECT_FALSE(Set.keepTrivial(fn("ns::size")).Included);
  EXPECT_EQ(Set.keepTrivial(fn("ns::size")).DecidedBy, nullptr);
  EXPECT_FALSE(Set.keepTrivial(fn("other::ns::getName")).Included);
  EXPECT_TRUE(parseOk("include trivial:**\n").keepTrivial(fn("(anonymous namespace)::f")).Included);
}

TEST(Rules, TrivialRulesDoNotDecideInclusion) {
  // The runtime evaluates the same rules: a trivial: line must change nothing there.
  RuleSet Set = parseOk("exclude function:app::**\n"
                        "include trivial:**\n");
  Decision D = Set.decide(fn("app::get"));
  EXPECT_FALSE(D.Included);
  EXPECT_EQ(D.DecidedBy->Line, 1u);
  EXPECT_TRUE(Set.decide(fn("other::get")).Included);
  EXPECT_EQ(Set.decide(fn("other::get")).DecidedBy, nullptr);
  EXPECT_EQ(parseOk("exclude trivial:**\n").decide(fn("f")).DecidedBy, nullptr);
  // Only other rules decide, whatever order the lines come in.
  EXPECT_FALSE(parseOk("include trivial:**\nexclude function:f\n").decide(fn("f")).Included);
}

TEST(Rules, TrivialRulesMatchTheQualifiedNameNotTheSignature) {
  RuleSet Set = parseOk("include trivial:S::get\n");
  std::string Name = "S::get", Sig = "S::get() const";
  EXPECT_TRUE(Set.keepTrivial({"a.cpp", Name, Sig, KindMethod}).Included);
  EXPECT_FALSE(parseOk("include trivial:S::get()*\n")
                   .keepTrivial({"a.cpp", Name, Sig, KindMethod})
                   .Included);
}

TEST(Rules, Thresholds) {
  RuleSet Set = parseOk("min-statements 3\nmin-lines 2\n");
  EXPECT_TRUE(Set.tooSmall(2, 10));
  EXPECT_TRUE(Set.tooSmall(5, 1));
  EXPECT_FALSE(Set.tooSmall(3, 2));
  EXPECT_FALSE(parseOk("").tooSmall(0, 0));
  EXPECT_EQ(parseOk("min-statements 1\nmin-statements 4\n").thresholds().MinStatements, 4u);
}

TEST(Rules, NormalizedFormParsesBackToTheSameRules) {
  RuleSet Set = parseOk("  include\tfunction:app::**\r\nexclude   file:  gen/**\n"
                        "include  trivial: app::get* \nmin-lines 3\n");
  std::string Norm = Set.normalized();
  EXPECT_EQ(Norm, "include function:app::**\nexclude file:gen/**\ninclude trivial:app::get*\n"
                  "min-lines 3\n");
  EXPECT_EQ(parseOk(Norm).normalized(), Norm);
}

TEST(Rules, CrLfLineEndings) {
  RuleSet Set = parseOk("exclude function:a\r\ninclude function:b\r\n");
  EXPECT_EQ(Set.rules().size(), 2u);
  EXPECT_EQ(Set.rules()[0].Text, "exclude function:a");
}

TEST(RulesErrors, UnknownDirective) {
  RulesError Err = parseError("include function:a\n  exlude function:b\n");
  EXPECT_EQ(Err.Line, 2u);
  EXPECT_EQ(Err.Column, 3u);
  EXPECT_EQ(Err.format(), "test.rules:2:3: error: unknown directive 'exlude' (expected include, "
                          "exclude, counters, min-statements or min-lines)\n"
                          "    exlude function:b\n"
                          "    ^");
}

TEST(RulesErrors, UnknownSelector) {
  RulesError Err = parseError("exclude fucntion:a\n");
  EXPECT_EQ(Err.Column, 9u);
  EXPECT_NE(Err.Message.find("unknown selector 'fucntion'"), std::string::npos);
}

TEST(RulesErrors, MissingColonAndGlob) {
  EXPECT_NE(parseError("exclude function a").Message.find("expected ':' after 'function'"),
            std::string::npos);
  EXPECT_NE(parseError("exclude").Message.find("expected a selector"), std::string::npos);
  RulesError Empty = parseError("exclude file:   ");
  EXPECT_NE(Empty.Message.find("expected a glob after 'file:'"), std::string::npos);
  EXPECT_NE(parseError("include trivial:").Message.find("expected a glob after 'trivial:'"),
            std::string::npos);
  EXPECT_NE(parseError("include trivial **").Message.find("expected ':' after 'trivial'"),
            std::string::npos);
}

TEST(RulesErrors, GlobErrorPointsIntoTheLine) {
  RulesError Err = parseError("exclude file:src/[abc\n");
  EXPECT_EQ(Err.Column, 18u);
  EXPECT_NE(Err.Message.find("unterminated '['"), std::string::npos);
}

TEST(RulesErrors, UnknownKind) {
  RulesError Err = parseError("exclude kind:constructor\n");
  EXPECT_NE(Err.Message.find("'constructor' matches no kind"), std::string::npos);
}

TEST(RulesErrors, BadThresholds) {
  EXPECT_NE(parseError("min-statements").Message.find("expected a number"), std::string::npos);
  EXPECT_NE(parseError("min-statements x3").Message.find("expected a number, found 'x3'"),
            std::string::npos);
  EXPECT_NE(parseError("min-lines -1").Message.find("expected a number"), std::string::npos);
  EXPECT_NE(parseError("min-lines 99999999999").Message.find("too large"), std::string::npos);
}

TEST(RulesErrors, UnreadableFile) {
  RulesError Err;
  EXPECT_FALSE(RuleSet::load("/nonexistent/x.rules", &Err));
  EXPECT_EQ(Err.format(),
            "error: cannot read rules file '/nonexistent/x.rules': No such file or directory");
}

TEST(Kinds, ParseAndName) {
  EXPECT_EQ(parseKinds("method,static"), KindMethod | KindStatic);
  EXPECT_EQ(parseKinds(""), 0u);
  EXPECT_FALSE(parseKinds("method,bogus"));
  EXPECT_EQ(kindNames(KindMethod | KindCtor), "method,ctor");
  EXPECT_STREQ(kindName(KindLambda), "lambda");
  EXPECT_EQ(kindName(3), nullptr);
}

// Inputs the fuzzer found interesting stay as regression cases: each must
// parse or fail cleanly, and every parsed rule set must round-trip.
TEST(Rules, FuzzCorpusRegressions) {
  DIR *D = opendir(SCOPEPROF_FUZZ_CORPUS);
  ASSERT_NE(D, nullptr) << SCOPEPROF_FUZZ_CORPUS;
  size_t Count = 0;
  while (dirent *E = readdir(D)) {
    if (E->d_name[0] == '.')
      continue;
    std::ifstream In(std::string(SCOPEPROF_FUZZ_CORPUS) + "/" + E->d_name, std::ios::binary);
    std::stringstream Buf;
    Buf << In.rdbuf();
    RulesError Err;
    if (auto Set = RuleSet::parse(Buf.str(), E->d_name, &Err)) {
      auto Again = RuleSet::parse(Set->normalized(), "normalized", &Err);
      ASSERT_TRUE(Again) << E->d_name << ": " << Err.format();
      EXPECT_EQ(Again->normalized(), Set->normalized()) << E->d_name;
      Set->decide(fn("app::x"));
    } else {
      EXPECT_FALSE(Err.Message.empty()) << E->d_name;
    }
    ++Count;
  }
  closedir(D);
  EXPECT_GT(Count, 10u);
}

} // namespace

TEST(Rules, CountersLinesChooseCountersByTheirOwnPrecedence) {
  RuleSet S = parseOk("counters memory function:app::**\n"
                      "exclude function:app::x\n"
                      "counters none function:app::hot\n"
                      "counters memory,cpu file:src/b.cpp\n");
  EXPECT_EQ(S.counters(fn("app::run")), std::optional<unsigned>(CounterMemory));
  EXPECT_EQ(S.counters(fn("app::hot")), std::optional<unsigned>(0u));
  EXPECT_EQ(S.counters(fn("other::f")), std::nullopt);
  EXPECT_EQ(S.counters(fn("app::hot", KindFree, "src/b.cpp")),
            std::optional<unsigned>(CounterMemory | CounterCpu));
  // The include/exclude lines do not see counters lines, nor the other way round.
  EXPECT_FALSE(S.decide(fn("app::x")).Included);
  EXPECT_TRUE(S.decide(fn("app::hot")).Included);
  EXPECT_EQ(S.counters(fn("app::x")), std::optional<unsigned>(CounterMemory));
  EXPECT_EQ(S.countersNamed(), CounterMemory | CounterCpu);
  EXPECT_EQ(S.normalized(), "exclude function:app::x\n"
                            "counters memory function:app::**\n"
                            "counters none function:app::hot\n"
                            "counters memory,cpu file:src/b.cpp\n");
  EXPECT_EQ(RuleSet::parse(S.normalized(), "n", nullptr)->normalized(), S.normalized());
}

TEST(Rules, MalformedCountersLinesAreRefusedWithTheirColumn) {
  RulesError E = parseError("counters memory,disk function:x\n");
  EXPECT_EQ(E.Column, 17u);
  EXPECT_EQ(E.Message, "unknown counter 'disk' (expected memory, cpu or none)");
  EXPECT_EQ(parseError("counters function:x\n").Message,
            "expected a list of counters (memory, cpu, or none) before the selector");
  EXPECT_EQ(parseError("counters memory\n").Message,
            "expected a selector (file:, function:, signature:, kind: or trivial:)");
  EXPECT_EQ(parseError("counters none,memory function:x\n").Message,
            "'none' cannot be combined with other counters");
  EXPECT_EQ(parseError("counters memory trivial:x\n").Message,
            "a counters line cannot use the trivial: selector");
}
