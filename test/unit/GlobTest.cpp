// Glob semantics over paths and C++ names.
#include "scopeprof/rules/Glob.h"

#include <gtest/gtest.h>

#include <string>

using namespace scopeprof::rules;

namespace {

bool matchPath(const std::string &Pattern, const std::string &Subject) {
  GlobError Err;
  auto G = Glob::compile(Pattern, Separator::Path, &Err);
  EXPECT_TRUE(G) << Pattern << ": " << Err.Message;
  return G && G->matches(Subject);
}

bool matchName(const std::string &Pattern, const std::string &Subject) {
  GlobError Err;
  auto G = Glob::compile(Pattern, Separator::Scope, &Err);
  EXPECT_TRUE(G) << Pattern << ": " << Err.Message;
  return G && G->matches(Subject);
}

GlobError compileError(const std::string &Pattern) {
  GlobError Err;
  EXPECT_FALSE(Glob::compile(Pattern, Separator::Scope, &Err)) << Pattern;
  return Err;
}

TEST(Glob, LiteralsMatchExactly) {
  EXPECT_TRUE(matchPath("src/main.cpp", "src/main.cpp"));
  EXPECT_FALSE(matchPath("src/main.cpp", "src/main.cp"));
  EXPECT_FALSE(matchPath("src/main.cpp", "src/main.cppx"));
  EXPECT_FALSE(matchPath("Main.cpp", "main.cpp"));
}

TEST(Glob, EmptyPatternMatchesOnlyEmpty) {
  EXPECT_TRUE(matchPath("", ""));
  EXPECT_FALSE(matchPath("", "a"));
  EXPECT_TRUE(Glob().matches(""));
  EXPECT_FALSE(Glob().matches("x"));
}

TEST(Glob, StarStaysInsideOnePathSegment) {
  EXPECT_TRUE(matchPath("src/*.cpp", "src/main.cpp"));
  EXPECT_TRUE(matchPath("src/*.cpp", "src/.cpp"));
  EXPECT_FALSE(matchPath("src/*.cpp", "src/net/main.cpp"));
  EXPECT_TRUE(matchPath("*", "abc"));
  EXPECT_FALSE(matchPath("*", "a/b"));
}

TEST(Glob, StarStaysInsideOneScope) {
  EXPECT_TRUE(matchName("app::*", "app::run"));
  EXPECT_FALSE(matchName("app::*", "app::net::run"));
  EXPECT_TRUE(matchName("app::*::read", "app::Socket::read"));
  EXPECT_FALSE(matchName("app*", "app::run"));
}

TEST(Glob, DoubleStarCrossesSegments) {
  EXPECT_TRUE(matchPath("src/**", "src/a/b/c.cpp"));
  EXPECT_TRUE(matchPath("src/**/c.cpp", "src/a/b/c.cpp"));
  EXPECT_TRUE(matchPath("src/**/c.cpp", "src/c.cpp"));
  EXPECT_FALSE(matchPath("src/**/c.cpp", "src/xc.cpp"));
  EXPECT_TRUE(matchPath("**/c.cpp", "c.cpp"));
  EXPECT_TRUE(matchPath("**/c.cpp", "a/c.cpp"));
  EXPECT_FALSE(matchPath("**/c.cpp", "ac.cpp"));
  EXPECT_TRUE(matchName("app::**", "app::net::Socket::read"));
  EXPECT_TRUE(matchName("**::read", "read"));
  EXPECT_TRUE(matchName("**::read", "app::net::Socket::read"));
  EXPECT_FALSE(matchName("**::read", "app::net::Socket::reader"));
  EXPECT_TRUE(matchName("a**b", "a::x::b"));
}

TEST(Glob, TrailingDoubleStarNeedsTheSeparator) {
  EXPECT_TRUE(matchPath("src/**", "src/x"));
  EXPECT_TRUE(matchPath("src/**", "src/"));
  EXPECT_FALSE(matchPath("src/**", "src"));
  EXPECT_TRUE(matchPath("**", ""));
  EXPECT_TRUE(matchPath("**", "any/thing"));
}

TEST(Glob, QuestionMarkIsOneCharacterButNotASeparator) {
  EXPECT_TRUE(matchPath("a?c", "abc"));
  EXPECT_FALSE(matchPath("a?c", "ac"));
  EXPECT_FALSE(matchPath("a?c", "a/c"));
  EXPECT_TRUE(matchName("a?b", "a:b")); // a lone ':' is no separator
  EXPECT_FALSE(matchName("a??b", "a::b"));
}

TEST(Glob, CharacterClasses) {
  EXPECT_TRUE(matchPath("[a-c]x", "bx"));
  EXPECT_FALSE(matchPath("[a-c]x", "dx"));
  EXPECT_TRUE(matchPath("[!a-c]x", "dx"));
  EXPECT_FALSE(matchPath("[!a-c]x", "ax"));
  EXPECT_TRUE(matchPath("[^a-c]x", "dx"));
  EXPECT_TRUE(matchPath("[]]", "]"));
  EXPECT_TRUE(matchPath("[a-]", "-"));
  EXPECT_TRUE(matchPath("[\\]]", "]"));
  EXPECT_FALSE(matchPath("[!x]", "/"));
}

TEST(Glob, Braces) {
  EXPECT_TRUE(matchPath("*.{cpp,cc,h}", "a.cc"));
  EXPECT_TRUE(matchPath("*.{cpp,cc,h}", "a.h"));
  EXPECT_FALSE(matchPath("*.{cpp,cc,h}", "a.hpp"));
  EXPECT_TRUE(matchPath("{src,lib}/**/*.cpp", "lib/x/y.cpp"));
  EXPECT_TRUE(matchPath("a{,b}c", "ac"));
  EXPECT_TRUE(matchPath("a{,b}c", "abc"));
  EXPECT_TRUE(matchPath("a{b{c,d},e}f", "abdf"));
  EXPECT_TRUE(matchPath("a{b{c,d},e}f", "aef"));
  EXPECT_FALSE(matchPath("a{b{c,d},e}f", "abf"));
  EXPECT_TRUE(matchName("ns::S::{S,~S}", "ns::S::~S"));
}

TEST(Glob, EscapesMakeMetacharactersLiteral) {
  EXPECT_TRUE(matchPath("a\\*b", "a*b"));
  EXPECT_FALSE(matchPath("a\\*b", "axb"));
  EXPECT_TRUE(matchPath("\\?", "?"));
  EXPECT_FALSE(matchPath("\\?", "x"));
  EXPECT_TRUE(matchPath("\\{a,b\\}", "{a,b}"));
  EXPECT_TRUE(matchPath("\\[x]", "[x]"));
  EXPECT_TRUE(matchPath("a\\\\b", "a\\b"));
}

TEST(Glob, RealCppNames) {
  EXPECT_TRUE(matchName("ns::S::operator()", "ns::S::operator()"));
  EXPECT_TRUE(matchName("ns::S::operator*", "ns::S::operator()"));
  EXPECT_TRUE(matchName("**::operator<<", "app::operator<<"));
  EXPECT_TRUE(matchName("*::operator\"\"_km", "units::operator\"\"_km"));
  EXPECT_TRUE(matchName("(anonymous namespace)::f", "(anonymous namespace)::f"));
  EXPECT_TRUE(matchName("(anonymous namespace)::*", "(anonymous namespace)::helper"));
  EXPECT_TRUE(matchName("std::vector<int>::push_back", "std::vector<int>::push_back"));
  EXPECT_TRUE(matchName("std::vector<*>::push_back", "std::vector<std::string>::push_back"));
  EXPECT_TRUE(matchName("std::*::push_back", "std::vector<std::pair<a::b, c::d>>::push_back"));
  EXPECT_TRUE(matchName("ns::S::~S", "ns::S::~S"));
  EXPECT_TRUE(matchName("ns::S::~*", "ns::S::~S"));
  // Lambdas are named after their enclosing function's signature.
  EXPECT_TRUE(matchName("app::run(*)::lambda#*", "app::run(int)::lambda#1"));
  EXPECT_TRUE(matchName("**::lambda#*", "app::Worker::start()::lambda#2"));
  EXPECT_FALSE(matchName("app::*", "app::run(int)::lambda#1"));
}

TEST(Glob, ScopeInsideTemplateArgumentsIsNotASeparator) {
  EXPECT_TRUE(matchName("f<*>", "f<a::b>"));
  EXPECT_TRUE(matchName("g(*)", "g(const std::string &)"));
  EXPECT_TRUE(matchName("ns::operator<*", "ns::operator<"));
  EXPECT_TRUE(matchName("ns::S::operator<*(*)", "ns::S::operator<(const ns::S &)"));
}

TEST(Glob, UnicodeIsMatchedByCodePoint) {
  EXPECT_TRUE(matchPath("src/?.cpp", "src/é.cpp"));
  EXPECT_TRUE(matchPath("src/[à-ü]*.cpp", "src/über.cpp"));
  EXPECT_TRUE(matchPath("données/**", "données/x/y.cpp"));
  EXPECT_FALSE(matchPath("src/?.cpp", "src/éé.cpp"));
  EXPECT_TRUE(matchPath("日本/*.h", "日本/語.h"));
}

TEST(Glob, InvalidUtf8IsStillMatchable) {
  std::string Subject = "a\xff" "b";
  EXPECT_TRUE(matchPath("a?b", Subject));
  EXPECT_TRUE(matchPath("a*", Subject));
  EXPECT_TRUE(matchPath(Subject, Subject));
}

TEST(Glob, AdversarialPatternsDoNotBacktrack) {
  std::string Name(100000, 'a');
  EXPECT_FALSE(matchName("*a*a*a*a*a*a*a*a*a*a*b", Name));
  EXPECT_FALSE(matchName("**a**a**a**a**a**a**b", Name));
  EXPECT_FALSE(matchName("{a,aa,aaa}{a,aa,aaa}{a,aa,aaa}*b", Name));
}

TEST(Glob, SyntaxErrorsNameTheColumn) {
  EXPECT_EQ(compileError("ab[cd").Column, 2u);
  EXPECT_NE(compileError("ab[cd").Message.find("unterminated '['"), std::string::npos);
  EXPECT_EQ(compileError("x{a,b").Column, 1u);
  EXPECT_NE(compileError("x{a,b").Message.find("unterminated '{'"), std::string::npos);
  EXPECT_EQ(compileError("ab}").Column, 2u);
  EXPECT_EQ(compileError("abc\\").Column, 3u);
  EXPECT_NE(compileError("[z-a]").Message.find("out of order"), std::string::npos);
}

TEST(QualifiedName, StripsTheParameterList) {
  EXPECT_EQ(qualifiedNameOf("app::f(int)"), "app::f");
  EXPECT_EQ(qualifiedNameOf("app::S::get() const &"), "app::S::get");
  EXPECT_EQ(qualifiedNameOf("ns::S::operator()(int)"), "ns::S::operator()");
  EXPECT_EQ(qualifiedNameOf("ns::operator<<(std::ostream &, const S &)"), "ns::operator<<");
  EXPECT_EQ(qualifiedNameOf("ns::operator<(const S &, const S &)"), "ns::operator<");
  EXPECT_EQ(qualifiedNameOf("(anonymous namespace)::helper(int)"), "(anonymous namespace)::helper");
  EXPECT_EQ(qualifiedNameOf("(anonymous namespace)::helper"), "(anonymous namespace)::helper");
  EXPECT_EQ(qualifiedNameOf("ns::Vec<T>::push(const T &)"), "ns::Vec<T>::push");
  EXPECT_EQ(qualifiedNameOf("plain"), "plain");
  EXPECT_EQ(qualifiedNameOf("app::run(int)::lambda#1(auto)"), "app::run(int)::lambda#1");
}

} // namespace
