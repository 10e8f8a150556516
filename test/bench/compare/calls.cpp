// The same call pattern for every tracer: outer -> inner -> 2 x leaf, N times (4 calls each).
#include <cstdio>
#include <cstdlib>

static volatile int Sink;

__attribute__((noinline)) int leaf(int X) {
  Sink = X;
  return X;
}
__attribute__((noinline)) int inner(int X) {
  return leaf(X) + leaf(X + 1);
}
__attribute__((noinline)) int outer(int X) {
  return inner(X);
}

int main(int Argc, char **Argv) {
  long N = Argc > 1 ? std::atol(Argv[1]) : 1000000;
  long Sum = 0;
  for (long I = 0; I < N; ++I)
    Sum += outer(static_cast<int>(I));
  std::printf("%ld\n", Sum);
  return 0;
}
