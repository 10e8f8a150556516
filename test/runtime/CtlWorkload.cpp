// A long-running program for the control channel tests (test/runtime/check_ctl.py): worker
// threads call work::f, work::g and work::h in a loop until standard input ends; work::never
// is never called. It prints what it is doing and exits with status 3, so a test can tell that
// nothing a controller did changed its output or its exit status.
// usage: ctl-workload THREADS [fork]   (fork: a child runs the same loop, as a process of its own)
#include "scopeprof/scope.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#define FN(ID, SIG)                                                                                \
  SCOPEPROF_FN(ID, SIG, "test/runtime/CtlWorkload.cpp", __LINE__, SCOPEPROF_KIND_FREE)

namespace work {

std::atomic<uint64_t> Sink{0};
std::atomic<bool> Stop{false};

// Each call does a little work and then sleeps a little: the test machine is shared, and the
// calls must stay longer than the auto-throttle's threshold either way.
void spin(int N) {
  for (int I = 0; I < N; ++I)
    Sink.fetch_add(static_cast<uint64_t>(I), std::memory_order_relaxed);
}
void f() {
  FN(0xc701, "work::f()");
  spin(200);
}
void g() {
  FN(0xc702, "work::g()");
  spin(100);
  f(); // so f has calls nested in g's: self time is not total time
}
void h() {
  FN(0xc703, "work::h()");
  spin(50);
}
void never() { FN(0xc704, "work::never()"); }

void loop() {
  while (!Stop.load(std::memory_order_relaxed)) {
    f();
    g();
    h();
    usleep(300);
  }
}

/// Runs \p Threads workers until standard input ends.
void runWorkers(int Threads) {
  std::vector<std::thread> Workers;
  for (int I = 0; I < Threads; ++I)
    Workers.emplace_back(loop);
  char Buf[256];
  while (read(STDIN_FILENO, Buf, sizeof(Buf)) > 0) {
  }
  Stop = true;
  for (auto &W : Workers)
    W.join();
}

} // namespace work

int main(int Argc, char **Argv) {
  if (Argc < 2) {
    std::fprintf(stderr, "usage: ctl-workload THREADS [fork]\n");
    return 2;
  }
  int Threads = std::atoi(Argv[1]);
  bool Fork = Argc > 2 && std::strcmp(Argv[2], "fork") == 0;
  if (Argc > 3)
    work::never(); // never true in the tests: keeps never() in the program
  pid_t Child = 0;
  if (Fork) {
    Child = fork();
    if (Child == 0) {
      std::printf("child %d\n", getpid());
      std::fflush(stdout);
      work::runWorkers(Threads);
      std::printf("child done\n");
      return 4;
    }
  }
  std::printf("ready %d\n", getpid());
  std::fflush(stdout);
  work::runWorkers(Threads);
  int Status = 0;
  if (Child > 0)
    waitpid(Child, &Status, 0);
  std::printf("done%s\n",
              Child > 0 && WIFEXITED(Status) && WEXITSTATUS(Status) == 4 ? ", child 4" : "");
  return 3;
}
