// An instrumented GoogleTest binary with a death test in GoogleTest's default ("threadsafe")
// style: the child is made by clone() and re-executes the binary, with no fork handlers run.
#include "scopeprof/scope.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void crash() {
  SCOPEPROF_FN(0x300, "crash()", "test/runtime/DeathTest.cpp", __LINE__, SCOPEPROF_KIND_FREE);
  std::fprintf(stderr, "boom\n");
  std::abort();
}

int work(int N) {
  SCOPEPROF_FN(0x301, "work(int)", "test/runtime/DeathTest.cpp", __LINE__, SCOPEPROF_KIND_FREE);
  return N * 2;
}

TEST(DeathTest, ThreadsafeStyleInAnInstrumentedBinary) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EQ(work(21), 42);
  EXPECT_DEATH(crash(), "boom");
  EXPECT_EQ(work(1), 2);
}

} // namespace
