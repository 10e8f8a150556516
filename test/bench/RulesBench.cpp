// Matching speed of globs and rule sets (names per second), typical and adversarial.
#include "scopeprof/rules/Rules.h"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

using namespace scopeprof::rules;

namespace {

const std::vector<std::string> &typicalNames() {
  static const std::vector<std::string> Names = {
      "app::net::Socket::read",
      "app::core::Engine::run",
      "std::vector<std::pair<int, std::string>>::push_back",
      "(anonymous namespace)::parseHeader",
      "app::detail::hash_combine<unsigned long>",
      "leveldb::DBImpl::CompactMemTable",
      "fmt::v9::detail::write_int<fmt::v9::appender, char>",
      "ns::S::operator()",
  };
  return Names;
}

void matchGlob(benchmark::State &State, const char *Pattern, Separator Sep,
               const std::vector<std::string> &Names) {
  auto G = Glob::compile(Pattern, Sep);
  size_t Matched = 0;
  for (auto _ : State)
    for (const auto &N : Names)
      Matched += G->matches(N);
  benchmark::DoNotOptimize(Matched);
  State.SetItemsProcessed(static_cast<int64_t>(State.iterations() * Names.size()));
}

void BM_GlobTypical(benchmark::State &State, const char *Pattern) {
  matchGlob(State, Pattern, Separator::Scope, typicalNames());
}
BENCHMARK_CAPTURE(BM_GlobTypical, prefix, "app::**");
BENCHMARK_CAPTURE(BM_GlobTypical, any_scope_suffix, "**::read");
BENCHMARK_CAPTURE(BM_GlobTypical, template_args, "std::vector<*>::push_back");
BENCHMARK_CAPTURE(BM_GlobTypical, braces, "app::{net,core}::*::{read,run}");

void BM_GlobPathTypical(benchmark::State &State) {
  static const std::vector<std::string> Paths = {"src/net/socket.cpp", "src/core/engine.cpp",
                                                 "include/app/detail/hash.h",
                                                 "third_party/zlib/inflate.c"};
  matchGlob(State, "src/**/*.{cpp,cc,h}", Separator::Path, Paths);
}
BENCHMARK(BM_GlobPathTypical);

// Backtracking matchers take exponential time here; an NFA stays linear.
void BM_GlobAdversarial(benchmark::State &State) {
  std::vector<std::string> Names = {std::string(static_cast<size_t>(State.range(0)), 'a')};
  matchGlob(State, "*a*a*a*a*a*a*a*b", Separator::Scope, Names);
  State.SetBytesProcessed(static_cast<int64_t>(State.iterations()) * State.range(0));
}
BENCHMARK(BM_GlobAdversarial)->Arg(64)->Arg(1024)->Arg(16384);

// A realistic 20-line rules file, decided for each typical name.
void BM_RuleSetDecide(benchmark::State &State) {
  std::string Text;
  for (int I = 0; I < 8; ++I)
    Text += "exclude function:app::generated" + std::to_string(I) + "::**\n";
  Text += "exclude file:third_party/**\ninclude function:app::**\nexclude kind:{ctor,dtor}\n"
          "exclude function:**::operator*\nexclude signature:*(const char *, ...)\n"
          "include function:std::**\nexclude function:(anonymous namespace)::*\n"
          "exclude function:**::detail::**\ninclude function:leveldb::**\n"
          "exclude function:fmt::**\nexclude function:**::lambda#*\nexclude file:gen/**\n";
  auto Set = RuleSet::parse(Text, "bench.rules", nullptr);
  std::vector<std::string> Sigs;
  for (const auto &N : typicalNames())
    Sigs.push_back(N + "(int, const char *)");
  size_t Included = 0;
  for (auto _ : State)
    for (size_t I = 0; I < Sigs.size(); ++I)
      Included += Set->decide({"src/app/main.cpp", typicalNames()[I], Sigs[I], KindMethod}).Included;
  benchmark::DoNotOptimize(Included);
  State.SetItemsProcessed(static_cast<int64_t>(State.iterations() * Sigs.size()));
}
BENCHMARK(BM_RuleSetDecide);

} // namespace

BENCHMARK_MAIN();
