// The GoogleTest listener (scopeprof::gtest): every test a GoogleTest program runs becomes a
// profile case named Suite::Name, with no change to the tests or to main (docs/cases.md).
#include <scopeprof/scope.h>

#include <gtest/gtest.h>

#include <string>

namespace {

class CaseListener : public testing::EmptyTestEventListener {
  void OnTestIterationStart(const testing::UnitTest &, int Iteration) override {
    Repetition = static_cast<uint32_t>(Iteration) + 1; // --gtest_repeat
  }
  // The fixture's constructor, SetUp and TearDown run between these two: GoogleTest tells a
  // listener nothing in between, so they are part of the case.
  void OnTestStart(const testing::TestInfo &Test) override {
    std::string Name = std::string(Test.test_suite_name()) + "::" + Test.name();
    scopeprof_case_begin(Name.c_str(), Repetition, 0);
  }
  void OnTestEnd(const testing::TestInfo &Test) override {
    scopeprof_case_end(Test.result()->Failed() ? SCOPEPROF_CASE_FAILED : 0);
  }

  uint32_t Repetition = 1;
};

// Appended before main, so gtest_main's main() (or the suite's own) needs no change: the same
// moment TEST() registers its tests. GoogleTest owns and deletes the listener.
const bool Installed = [] {
  testing::UnitTest::GetInstance()->listeners().Append(new CaseListener);
  return true;
}();

} // namespace

// Nothing refers to this file: the scopeprof::gtest target (and scopeprof-gtest.pc) make the
// linker take it from the archive with -u scopeprof_gtest_cases, which names this symbol.
extern "C" {
extern const int scopeprof_gtest_cases;
const int scopeprof_gtest_cases = Installed ? 1 : 0;
}
