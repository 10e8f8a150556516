// A GoogleTest suite that knows nothing of scopeprof: linked with scopeprof::gtest, each test is a
// profile case. check_cases.py knows every call each test makes.
#include <gtest/gtest.h>

#include <scopeprof/scope.h>

#include <cstdlib>

#define FN(ID, SIG) SCOPEPROF_FN(ID, SIG, "test/cases/GtestDemo.cpp", __LINE__, SCOPEPROF_KIND_FREE)

namespace {

__attribute__((noinline)) int add(int A, int B) {
  FN(0x601, "add(int, int)");
  return A + B;
}

__attribute__((noinline)) int twice(int A) {
  FN(0x602, "twice(int)");
  return add(A, A);
}

// State one test leaves to the next (GTEST_DEMO_LEAK): Doubling.twice then makes more calls
// after Math.add than alone, the difference check_cases.py's gtest-solo must catch.
int LeftBehind = 0;

} // namespace

TEST(Math, add) {
  EXPECT_EQ(add(2, 3), 5);
  EXPECT_EQ(add(-1, 1), 0);
  // check_cases.py's failed test.
  if (std::getenv("GTEST_DEMO_FAIL"))
    ADD_FAILURE() << "failing as asked (GTEST_DEMO_FAIL)";
  if (std::getenv("GTEST_DEMO_LEAK"))
    LeftBehind = 2;
}

// Listed by --gtest_list_tests, never run: no case (scripts/gtest-cases-check leaves it out).
TEST(Math, DISABLED_never) { add(0, 0); }

class Doubling : public testing::Test {
protected:
  void SetUp() override { Base = add(20, 1); }
  int Base = 0;
};

TEST_F(Doubling, twice) {
  for (int I = 0; I < LeftBehind; ++I)
    add(0, 0);
  EXPECT_EQ(twice(Base), 42);
}

// Parameterized: the name GoogleTest gives it has slashes (Numbers/Param.even/0).
class Param : public testing::TestWithParam<int> {};
TEST_P(Param, even) { EXPECT_EQ(twice(GetParam()) % 2, 0); }
INSTANTIATE_TEST_SUITE_P(Numbers, Param, testing::Values(1, 2));
