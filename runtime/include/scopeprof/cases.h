// scopeprof/cases.h: profile cases, written once like unit tests and run by the case runner
// (link scopeprof::cases, which provides main). docs/cases.md has the whole story.
//
//   struct Parser : scopeprof::Case {
//     void setUp() override { Text = load("big.json"); }   // outside the measured interval
//     std::string Text;
//   };
//   SCOPEPROF_CASE(Parser, whole) { parse(Text); }
//   SCOPEPROF_CASE(Parser, streaming, scopeprof::skip("memory")) { parseStream(Text); }
//   SCOPEPROF_FREE_CASE(Hash, small, scopeprof::accept("cpu")) { hash("abc"); }
//
// Each call the program makes while a case runs, on any of its threads, is tagged with the case
// (`scopeprof report --case 'Parser::*'`).
#pragma once

#include <scopeprof/scope.h>

#include <string>
#include <vector>

namespace scopeprof {

/// A fixture. For each repetition of each of its cases the runner makes a new one, calls setUp,
/// runs the case's body (the measured interval), calls tearDown and destroys it; only the body
/// is measured. An exception from any of them fails the case.
class Case {
public:
  virtual ~Case() = default;
  virtual void setUp() {}
  virtual void tearDown() {}
  /// The case's body: SCOPEPROF_CASE writes it.
  virtual void runCase() = 0;
};

/// What a case says about when it runs.
struct CaseOption {
  enum Kind { Skip, SkipUnder, Accept } K;
  const char *Profiler; ///< "time", "memory" or "cpu"; null for Skip
};
/// Never run (listed, marked skipped).
inline CaseOption skip() { return {CaseOption::Skip, nullptr}; }
/// Not run under \p Profiler.
inline CaseOption skip(const char *Profiler) { return {CaseOption::SkipUnder, Profiler}; }
/// Run only under \p Profiler (several accept() options: under any of them).
inline CaseOption accept(const char *Profiler) { return {CaseOption::Accept, Profiler}; }

/// The profiler the runner runs the cases under: "time", "memory" or "cpu".
const char *profiler();

/// The runner's main, for a program that has its own: the same options (docs/cases.md).
int runCases(int Argc, char **Argv);

namespace detail {

struct CaseInfo {
  const char *Suite, *Name;
  Case *(*Make)();
  std::vector<CaseOption> Options;
  const char *File;
  int Line;
};

/// Called by SCOPEPROF_CASE before main; cases run in the order they are registered.
bool registerCase(CaseInfo Info);

} // namespace detail
} // namespace scopeprof

#define SCOPEPROF_CASE_CLASS(Suite, Name) Suite##_##Name##_ScopeprofCase

// The trailing empty argument lets a case have no options: __VA_ARGS__ is then empty, and
// otherwise ends in a comma, which a braced list allows.
#define SCOPEPROF_CASE_DEFINE(Base, Suite, Name, ...)                                          \
  class SCOPEPROF_CASE_CLASS(Suite, Name) final : public Base {                                \
    void runCase() override;                                                                   \
    static const bool Registered;                                                              \
  };                                                                                           \
  const bool SCOPEPROF_CASE_CLASS(Suite, Name)::Registered = ::scopeprof::detail::registerCase( \
      {#Suite, #Name,                                                                          \
       []() -> ::scopeprof::Case * { return new SCOPEPROF_CASE_CLASS(Suite, Name); },          \
       {__VA_ARGS__}, __FILE__, __LINE__});                                                    \
  void SCOPEPROF_CASE_CLASS(Suite, Name)::runCase()

/// SCOPEPROF_CASE(Fixture, name[, options...]) { body }: a case of a fixture derived from
/// scopeprof::Case, named Fixture::name.
#define SCOPEPROF_CASE(Fixture, ...) SCOPEPROF_CASE_DEFINE(Fixture, Fixture, __VA_ARGS__, )

/// SCOPEPROF_FREE_CASE(Suite, name[, options...]) { body }: a case without a fixture, named
/// Suite::name (Suite is only a name).
#define SCOPEPROF_FREE_CASE(Suite, ...)                                                        \
  SCOPEPROF_CASE_DEFINE(::scopeprof::Case, Suite, __VA_ARGS__, )
