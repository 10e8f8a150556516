// A GoogleTest test linked with the installed scopeprof::gtest (scopeprof-gtest.pc): its test is
// a case, with no code for it here.
#include <gtest/gtest.h>
#include <scopeprof/scope.h>

int work(int N) {
  SCOPEPROF_FN(0x1236, "work(int)", "gtest.cpp", 6, SCOPEPROF_KIND_FREE);
  return N * 2;
}

TEST(Smoke, work) { EXPECT_EQ(work(21), 42); }
