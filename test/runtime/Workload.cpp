// A program with known calls, for exact runtime checks (test/runtime/check_runtime.py).
// Modes: exact T N K | exit-with-threads T N | spin | exec-child N | manual | timed N | calls N
//        throttled N M | marked N | compensation ROUNDS [CHILD_SPIN [GRANDCHILD_SPIN]] | signals MS | sigterm-exit | clone-exec | deep N
//        paced MS | future | migrate | long-exception | cpu MS | exec-perf-fds | ping-pong ROUNDS
//        rename-seen-first | initializers ROUNDS
#include "scopeprof/scope.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <ctime>
#include <mutex>
#include <future>
#include <pthread.h>
#include <sched.h>
#include <csignal>
#include <sys/prctl.h>
#include <sys/time.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#define FN(ID, SIG) SCOPEPROF_FN(ID, SIG, "test/runtime/Workload.cpp", __LINE__, SCOPEPROF_KIND_FREE)

static const char *Self;
static std::atomic<int> Sink{0};

int leaf(int X) {
  FN(0x100, "leaf(int)");
  Sink += X;
  return X;
}
int inner(int X) {
  FN(0x101, "inner(int)");
  return leaf(X) + leaf(X + 1);
}
int outer(int X) {
  FN(0x102, "outer(int)");
  return inner(X);
}

// Recurses to Depth, then throws; the scopes between the throw and the catch are broken.
int thrower(int Depth) {
  FN(0x103, "thrower(int)");
  if (Depth == 0)
    throw std::runtime_error("thrown at the bottom");
  return thrower(Depth - 1) + 1;
}
// Catches at a given level: catcher(levels above, depth below).
int catcher(int Above, int Below) {
  FN(0x104, "catcher(int, int)");
  if (Above > 0)
    return catcher(Above - 1, Below);
  try {
    return thrower(Below);
  } catch (const std::runtime_error &) {
    return -1;
  }
}
// An exception from uninstrumented library code.
int atOutOfRange() {
  FN(0x105, "atOutOfRange()");
  std::vector<int> V;
  return V.at(7);
}

void worker(int Index, int N) {
  std::string Name = "worker-" + std::to_string(Index);
  pthread_setname_np(pthread_self(), Name.c_str());
  for (int I = 0; I < N; ++I) {
    if (I == N / 2)
      pthread_setname_np(pthread_self(), ("renamed-" + std::to_string(Index)).c_str());
    outer(I);
  }
}

void childWork(int Index, int N) {
  FN(0x106, "childWork(int, int)");
  for (int I = 0; I < N; ++I)
    leaf(I);
  if (Index % 2 == 1) {
    std::string Count = std::to_string(N);
    execl(Self, Self, "exec-child", Count.c_str(), static_cast<char *>(nullptr));
    std::perror("execl");
    _exit(3);
  }
}

void execChild(int N) {
  FN(0x107, "execChild(int)");
  for (int I = 0; I < N; ++I)
    leaf(I);
}

int exact(int T, int N, int K) {
  FN(0x108, "exact(int, int, int)");
  pthread_setname_np(pthread_self(), "main-thread");
  std::vector<std::thread> Threads;
  for (int I = 0; I < T; ++I)
    Threads.emplace_back(worker, I, N);
  for (auto &Th : Threads)
    Th.join();
  catcher(0, 3); // thrower x4 broken, caught in catcher depth 0
  catcher(2, 1); // thrower x2 broken, catcher x3 fine
  try {
    atOutOfRange();
  } catch (const std::out_of_range &) {
  }
  {
    scopeprof::Region R("paused-region");
    R.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    R.pause();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    R.resume();
    R.stop();
  }
  for (int I = 0; I < K; ++I) {
    pid_t Pid = fork();
    if (Pid == 0) {
      childWork(I, N);
      std::exit(0);
    }
    int Status = 0;
    waitpid(Pid, &Status, 0);
    if (!WIFEXITED(Status) || WEXITSTATUS(Status) != 0)
      return 1;
  }
  return 0;
}

// Threads finish their calls and then stay alive, blocked, while main returns.
int exitWithThreads(int T, int N) {
  FN(0x109, "exitWithThreads(int, int)");
  // Never destroyed: glibc's condition variable destructor waits for its blocked waiters.
  static std::mutex &M = *new std::mutex;
  static std::condition_variable &Cv = *new std::condition_variable;
  static int Done = 0;
  for (int I = 0; I < T; ++I)
    std::thread([N] {
      for (int J = 0; J < N; ++J)
        leaf(J);
      std::unique_lock<std::mutex> L(M);
      ++Done;
      Cv.notify_all();
      Cv.wait(L, [] { return false; });
    }).detach();
  std::unique_lock<std::mutex> L(M);
  Cv.wait(L, [T] { return Done == T; });
  return 0;
}

// Known times for the database tests: timedInner sleeps 30 ms, timedOuter 10 ms of its own.
void timedInner() {
  FN(0x120, "timedInner()");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
}
void timedOuter() {
  FN(0x121, "timedOuter()");
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  timedInner();
}

// A busy loop of known length, not instrumented: the work whose time is known.
static volatile uint64_t SpinState = 1;
void spinFor(int Iterations) {
  uint64_t X = SpinState;
  for (int I = 0; I < Iterations; ++I)
    __asm__ volatile("" : "+r"(X)); // a counting loop the compiler must keep: known work
  SpinState = X;
}

// The auto-throttle: step() is slow enough to stay recorded, tiny() is cut. After N steps a
// rule naming tiny() switches it back on for M more.
void tiny() {
  FN(0x130, "tiny()");
  SpinState = SpinState + 1;
}
void step() {
  FN(0x131, "step()");
  spinFor(5000);
  tiny();
}
// CPU samples charged by address: Built's member initializers do all its work before its
// scope opens, while its caller's mark is the innermost: inline code, and a call of code that
// is not instrumented (as operator new would be). countUp() is tiny and throttled, so most of
// its samples fall in its scope's code.
static inline __attribute__((__always_inline__)) uint64_t spinInline(int Iterations) {
  uint64_t X = SpinState;
  for (int I = 0; I < Iterations; ++I)
    __asm__ volatile("" : "+r"(X));
  return X;
}
__attribute__((__noinline__)) uint64_t spinOutOfLine(int Iterations) { return spinInline(Iterations); }
struct Built {
  uint64_t Value, More;
  explicit Built(int Iterations) : Value(spinInline(Iterations)), More(spinOutOfLine(Iterations)) {
    FN(0x150, "Built::Built(int)");
  }
};
void countUp() {
  FN(0x151, "countUp()");
  SpinState = SpinState + 1;
}
int initializers(int Rounds) {
  FN(0x152, "initializers(int)");
  for (int I = 0; I < Rounds * 2000; ++I)
    countUp();
  for (int I = 0; I < Rounds; ++I) {
    Built B(100000);
    SpinState = B.Value + B.More;
  }
  return 0;
}

// A throttled function long enough to be marked: under SCOPEPROF_THROTTLE=1000:50us, medium()
// (some 20 us a call) is cut, its calls marked, not recorded; outerStep() (some 120 us) is not.
// Long calls: under a sanitizer a mark costs tens of ns, and a function is marked only where
// its mark is at most 2% of its call.
void medium() {
  FN(0x186, "medium()");
  spinFor(60000);
}
void outerStep() {
  FN(0x187, "outerStep()");
  spinFor(300000);
  medium();
}
// Long calls with little of their own: cut (a mean of some 15 us, under the 50 us threshold),
// but not marked, however long: what a mark would share out is its own time.
void everyEighth(int I) {
  FN(0x188, "everyEighth(int)");
  if (I % 8 == 0)
    outerStep();
}
int marked(int N) {
  for (int I = 0; I < N; ++I)
    everyEighth(I);
  return 0;
}

int throttled(int N, int M) {
  for (int I = 0; I < N; ++I)
    step();
  scopeprof::setRules("include function:tiny");
  for (int I = 0; I < M; ++I)
    step();
  return 0;
}

// tiny() is cut in the parent (the flush has the writer judge its calls first); a child forked
// after the cut inherits the cut.
int throttledFork(int N) {
  for (int I = 0; I < N; ++I)
    step();
  scopeprof::flush();
  pid_t Pid = fork();
  if (Pid == 0) {
    for (int I = 0; I < N; ++I)
      step();
    std::exit(0);
  }
  int Status = 0;
  waitpid(Pid, &Status, 0);
  return WIFEXITED(Status) && WEXITSTATUS(Status) == 0 ? 0 : 1;
}

// Overhead compensation: parent() does known work around 200 calls of a tiny child (or of a
// child doing CHILD_SPIN iterations of work). Their true times are measured here with the
// scopes switched off (a disabled scope costs a load and a branch), in rounds interleaved with
// recorded ones, and printed for the test to compare.
static int ChildSpin = 0, GrandchildSpin = 0;
void grandchild() {
  FN(0x142, "grandchild()");
  spinFor(GrandchildSpin);
}
void child() {
  FN(0x140, "child()");
  SpinState = SpinState + 1;
  if (ChildSpin)
    spinFor(ChildSpin);
  if (GrandchildSpin)
    grandchild();
}
void parent() {
  FN(0x141, "parent()");
  for (int I = 0; I < 200; ++I) {
    spinFor(600);
    child();
  }
}
int compensation(int Rounds) {
  using Clock = std::chrono::steady_clock;
  auto timeNs = [](auto &&F) {
    auto T0 = Clock::now();
    F();
    return std::chrono::duration<double, std::nano>(Clock::now() - T0).count();
  };
  std::vector<double> ParentNs, ChildrenNs, GrandchildrenNs;
  // One call off, one on: whatever else the machine does affects both alike.
  for (int R = 0; R < Rounds; ++R) {
    scopeprof::disable();
    ParentNs.push_back(timeNs(parent));
    ChildrenNs.push_back(timeNs([] {
      for (int I = 0; I < 200; ++I)
        child();
    }));
    GrandchildrenNs.push_back(timeNs([] {
      for (int I = 0; I < 200; ++I)
        if (GrandchildSpin)
          grandchild();
    }));
    scopeprof::enable();
    parent();
  }
  auto median = [](std::vector<double> &V) {
    std::sort(V.begin(), V.end());
    return V[V.size() / 2];
  };
  std::printf("true parent total %.0f ns, children %.0f ns, grandchildren %.0f ns\n",
              median(ParentNs), median(ChildrenNs), median(GrandchildrenNs));
  return 0;
}

// Signal handlers that call instrumented code while the thread may be inside the recorder.
static volatile sig_atomic_t HandlerCalls = 0;
void handled() {
  FN(0x150, "handled()");
  Sink.fetch_add(1, std::memory_order_relaxed);
}
void onAlarm(int) {
  handled();
  ++HandlerCalls;
}
// Every 100 us a SIGALRM whose handler calls handled(), for MS ms; prints how many ran.
int signals(int Ms) {
  handled(); // registered before the handler can interrupt a registration
  std::signal(SIGALRM, onAlarm);
  itimerval Timer{{0, 100}, {0, 100}};
  setitimer(ITIMER_REAL, &Timer, nullptr);
  auto Until = std::chrono::steady_clock::now() + std::chrono::milliseconds(Ms);
  for (int I = 0; std::chrono::steady_clock::now() < Until; ++I) {
    outer(I);
    spinFor(300);
  }
  itimerval Off{};
  setitimer(ITIMER_REAL, &Off, nullptr);
  std::signal(SIGALRM, SIG_IGN);
  std::printf("%d\n", static_cast<int>(HandlerCalls) + 1);
  return 0;
}
void onTerm(int) {
  handled();
  std::exit(3);
}
// Records until a SIGTERM, whose handler calls instrumented code and exit().
int sigtermExit() {
  std::signal(SIGTERM, onTerm);
  for (int I = 0;; ++I) {
    outer(I);
    spinFor(300);
    if (I == 1000)
      std::printf("ready\n"), std::fflush(stdout);
  }
}
// A child made by a raw clone() (no fork handlers run, as in GoogleTest's death tests) that
// execs an instrumented program.
int cloneExec() {
  outer(1);
  static char Stack[256 * 1024];
  pid_t Child = clone(
      [](void *) -> int {
        execl(Self, Self, "calls", "5", static_cast<char *>(nullptr));
        return 127;
      },
      Stack + sizeof(Stack), SIGCHLD, nullptr);
  int Status = 0;
  waitpid(Child, &Status, 0);
  return WIFEXITED(Status) ? WEXITSTATUS(Status) : 1;
}
// A recursion N deep, on a thread with a stack big enough for it.
int recurse(int N) {
  FN(0x151, "recurse(int)");
  return N ? recurse(N - 1) + 1 : 0;
}
int deep(int N) {
  pthread_attr_t Attr;
  pthread_attr_init(&Attr);
  pthread_attr_setstacksize(&Attr, size_t{1} << 30);
  pthread_t T;
  static int Depth;
  Depth = N;
  pthread_create(&T, &Attr, [](void *) -> void * { return reinterpret_cast<void *>(recurse(Depth)); }, nullptr);
  pthread_join(T, nullptr);
  return 0;
}

// An exception thrown in another thread and rethrown by std::future::get().
int waitForIt() {
  FN(0x160, "waitForIt()");
  auto Result = std::async(std::launch::async, []() -> int { throw std::runtime_error("from the future"); });
  return Result.get();
}
int future() {
  try {
    waitForIt();
  } catch (const std::exception &) {
  }
  return leaf(1) == 1 ? 0 : 1;
}

// A scope that begins on one thread and ends on another (a coroutine resumed elsewhere),
// through the C form, inside an instrumented function; then ordinary calls on both threads.
void handOver() {
  FN(0x172, "handOver()");
  static scopeprof_site Site = {SCOPEPROF_SITE_NEW, 0, 0x170, "migrated()", "test/runtime/Workload.cpp",
                                __LINE__, SCOPEPROF_KIND_FREE, nullptr};
  scopeprof_c_call Call;
  scopeprof_c_scope Scope = scopeprof_c_enter(&Site, &Call);
  std::thread([&Scope] {
    scopeprof_c_exit(&Scope);
    leaf(1);
  }).join();
}
int migrate() {
  handOver();
  outer(1);
  return 0;
}

// An exception whose demangled type name is longer than the runtime's 1 KiB record of it.
template <typename T> struct NestedTemplateWithANameLongEnoughToAddUp_ {};
template <typename T> using Nest = NestedTemplateWithANameLongEnoughToAddUp_<T>;
using Long = Nest<Nest<Nest<Nest<Nest<Nest<Nest<Nest<Nest<Nest<Nest<Nest<Nest<Nest<Nest<Nest<
    Nest<Nest<Nest<Nest<Nest<Nest<Nest<Nest<int>>>>>>>>>>>>>>>>>>>>>>>>;
template <typename T> struct LongError : std::runtime_error {
  LongError() : std::runtime_error(std::string(2000, 'm')) {}
};
int throwLong() {
  FN(0x171, "throwLong()");
  throw LongError<Long>();
}
int longException() {
  try {
    throwLong();
  } catch (const std::exception &) {
  }
  return 0;
}

// outer() about every 20 us for MS ms; prints how many times.
int paced(int Ms) {
  auto Until = std::chrono::steady_clock::now() + std::chrono::milliseconds(Ms);
  int N = 0;
  for (; std::chrono::steady_clock::now() < Until; ++N) {
    outer(N);
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  std::printf("%d\n", N);
  return 0;
}

// Records forever, at a modest rate; the test kills it with SIGKILL.
int spin() {
  for (int I = 1;; ++I) {
    outer(I);
    if (I % 64 == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (I % 1024 == 0)
      std::printf("%d\n", I), std::fflush(stdout);
  }
}

// CPU time against wall time: functions that sleep, spin, or do both, for MS ms each. Each
// prints what the kernel says its thread ran meanwhile (CLOCK_THREAD_CPUTIME_ID): the truth
// the loader's cpu_ns is checked against ("truth FUNCTION NS").
static int CpuMs = 50;

uint64_t threadCpuNs() {
  timespec T;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &T);
  return static_cast<uint64_t>(T.tv_sec) * 1000000000u + static_cast<uint64_t>(T.tv_nsec);
}
// Kept in memory and printed when the process's work is done: printing inside the measured
// call would add a write system call to the call but not to the truth (in a loaded CI run under
// AddressSanitizer, 2.1 ms over eight calls: more than the check allows).
static std::mutex TruthsLock;
static std::vector<std::pair<const char *, uint64_t>> Truths;
struct CpuTruth {
  const char *Name;
  uint64_t Start = threadCpuNs();
  explicit CpuTruth(const char *Name) : Name(Name) {}
  ~CpuTruth() {
    uint64_t Ran = threadCpuNs() - Start;
    std::lock_guard<std::mutex> L(TruthsLock);
    Truths.emplace_back(Name, Ran);
  }
};
void printTruths() {
  std::lock_guard<std::mutex> L(TruthsLock);
  for (auto &[Name, Ns] : Truths)
    std::printf("truth %s %llu\n", Name, static_cast<unsigned long long>(Ns));
  std::fflush(stdout);
  Truths.clear();
}

void spinForMs(int Ms) {
  auto End = std::chrono::steady_clock::now() + std::chrono::milliseconds(Ms);
  while (std::chrono::steady_clock::now() < End) {
  }
}
void sleeper() {
  FN(0x180, "sleeper()");
  CpuTruth T("sleeper()");
  std::this_thread::sleep_for(std::chrono::milliseconds(CpuMs));
}
// Resets every signal's handler to the default, as daemons and spawners do, then works on the
// CPU for MS ms: the CPU samples must not kill it.
int resetSignals(int Ms) {
  for (int Sig = 1; Sig < NSIG; ++Sig)
    if (Sig != SIGKILL && Sig != SIGSTOP)
      std::signal(Sig, SIG_DFL);
  leaf(0);
  spinForMs(Ms);
  return 0;
}

void spinner() {
  FN(0x181, "spinner()");
  CpuTruth T("spinner()");
  spinForMs(CpuMs);
}
// Spins, then calls a child that sleeps: its own self time is all CPU.
void sleepyParent() {
  FN(0x182, "sleepyParent()");
  {
    CpuTruth T("sleepyParent() self");
    spinForMs(CpuMs);
  }
  sleeper();
}
// Waits for a condition another thread sets after MS ms.
void waiter() {
  FN(0x183, "waiter()");
  CpuTruth T("waiter()");
  std::mutex M;
  std::condition_variable Cv;
  bool Ready = false;
  std::thread Setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(CpuMs));
    std::lock_guard<std::mutex> L(M);
    Ready = true;
    Cv.notify_one();
  });
  std::unique_lock<std::mutex> L(M);
  Cv.wait(L, [&] { return Ready; });
  L.unlock();
  Setter.join();
}
void cpuRound() {
  sleeper();
  spinner();
  sleepyParent();
  waiter();
}
// The main thread, then threads one after the other (so they do not compete for the CPU), then
// a fork child doing the same on its main thread and on a thread of its own.
// A thread's outermost call: open from the thread's start, before its first call ends (the
// thread's first record).
void threadBody() {
  FN(0x185, "threadBody()");
  CpuTruth T("threadBody()");
  leaf(0);
  cpuRound();
}
int cpuWork(int Ms) {
  CpuMs = Ms;
  cpuRound();
  for (int I = 0; I < 2; ++I)
    std::thread(threadBody).join();
  printTruths();
  pid_t Pid = fork();
  if (Pid == 0) {
    cpuRound();
    std::thread(threadBody).join();
    printTruths();
    std::exit(0);
  }
  int Status = 0;
  waitpid(Pid, &Status, 0);
  return WIFEXITED(Status) && WEXITSTATUS(Status) == 0 ? 0 : 1;
}

// Two threads pass a token through pipes ROUNDS times, 1000 per recorded call: hundreds of
// thousands of context switches a second, more than a switch ring holds between two drains.
void pingRounds(int ReadFd, int WriteFd, bool First) {
  FN(0x184, "pingRounds()");
  char C = 'x';
  for (int I = 0; I < 1000; ++I) {
    if (First && write(WriteFd, &C, 1) != 1)
      std::abort();
    if (read(ReadFd, &C, 1) != 1)
      std::abort();
    if (!First && write(WriteFd, &C, 1) != 1)
      std::abort();
  }
}
int pingPong(int Rounds) {
  int AB[2], BA[2];
  if (pipe(AB) != 0 || pipe(BA) != 0)
    return 1;
  std::thread B([&] {
    for (int I = 0; I < Rounds / 1000; ++I)
      pingRounds(AB[0], BA[1], false);
  });
  for (int I = 0; I < Rounds / 1000; ++I)
    pingRounds(BA[0], AB[1], true);
  B.join();
  return 0;
}

// The perf events this process holds: its tracked threads' (no more: an exec'ed program
// inherits none of its parent's).
int perfFds() {
  int N = 0;
  if (DIR *D = opendir("/proc/self/fd")) {
    while (dirent *E = readdir(D)) {
      char Target[256] = {};
      std::string Path = std::string("/proc/self/fd/") + E->d_name;
      if (readlink(Path.c_str(), Target, sizeof(Target) - 1) > 0 && std::strstr(Target, "perf_event"))
        ++N;
    }
    closedir(D);
  }
  return N;
}

// A rename the writer's periodic /proc check sees before pthread_setname_np's own unit arrives
// (prctl renames after the thread's header is out, the check runs during the second sleep, then
// pthread_setname_np gives the same name): the log must hold the rename once.
int renameSeenFirst() {
  std::thread([] {
    leaf(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    prctl(PR_SET_NAME, "seen-first");
    leaf(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    pthread_setname_np(pthread_self(), "seen-first");
    leaf(3);
  }).join();
  return 0;
}

// Two tracked threads, then exec: the new image must hold only its own main thread's event.
int execPerfFds() {
  std::mutex M;
  std::condition_variable Cv;
  bool Ready = false;
  std::thread([&] {
    leaf(1);
    {
      std::lock_guard<std::mutex> L(M);
      Ready = true;
      Cv.notify_one();
    }
    pause(); // alive, tracked, until exec ends the process image
  }).detach();
  std::unique_lock<std::mutex> L(M);
  Cv.wait(L, [&] { return Ready; });
  std::printf("before exec %d\n", perfFds());
  std::fflush(stdout);
  execl(Self, Self, "perf-fds", static_cast<char *>(nullptr));
  return 3;
}

int main(int Argc, char **Argv) {
  Self = Argv[0];
  std::string Mode = Argc > 1 ? Argv[1] : "";
  auto Arg = [&](int I) { return Argc > I ? std::atoi(Argv[I]) : 0; };
  if (Mode == "rename-seen-first")
    return renameSeenFirst();
  if (Mode == "exact")
    return exact(Arg(2), Arg(3), Arg(4));
  if (Mode == "exit-with-threads")
    return exitWithThreads(Arg(2), Arg(3));
  if (Mode == "spin")
    return spin();
  if (Mode == "exec-child") {
    execChild(Arg(2));
    return 0;
  }
  if (Mode == "manual") { // SCOPEPROF_SCOPE blocks; disable()/enable() around calls
    for (int I = 0; I < 10; ++I) {
      SCOPEPROF_SCOPE("manual block");
      leaf(I);
    }
    scopeprof::disable();
    for (int I = 0; I < 7; ++I)
      leaf(I);
    scopeprof::enable();
    for (int I = 0; I < 5; ++I)
      leaf(I);
    scopeprof::flush();
    return 0;
  }
  if (Mode == "timed") {
    for (int I = 0; I < Arg(2); ++I)
      timedOuter();
    return 0;
  }
  if (Mode == "calls") { // N calls of outer: for thresholds, drop policy, run-time rules
    for (int I = 0; I < Arg(2); ++I)
      outer(I);
    return 0;
  }
  if (Mode == "signals")
    return signals(Arg(2));
  if (Mode == "sigterm-exit")
    return sigtermExit();
  if (Mode == "clone-exec")
    return cloneExec();
  if (Mode == "migrate")
    return migrate();
  if (Mode == "long-exception")
    return longException();
  if (Mode == "future")
    return future();
  if (Mode == "paced")
    return paced(Arg(2));
  if (Mode == "deep")
    return deep(Arg(2));
  if (Mode == "initializers")
    return initializers(Arg(2));
  if (Mode == "throttled")
    return throttled(Arg(2), Arg(3));
  if (Mode == "throttled-fork")
    return throttledFork(Arg(2));
  if (Mode == "marked")
    return marked(Arg(2));
  if (Mode == "compensation") {
    ChildSpin = Arg(3);
    GrandchildSpin = Arg(4);
    return compensation(Arg(2));
  }
  if (Mode == "cpu")
    return cpuWork(Arg(2));
  if (Mode == "reset-signals")
    return resetSignals(Arg(2));
  if (Mode == "ping-pong")
    return pingPong(Arg(2));
  if (Mode == "perf-fds")
    return std::printf("after exec %d\n", perfFds()) < 0;
  if (Mode == "exec-perf-fds")
    return execPerfFds();
  std::fprintf(stderr,
               "usage: %s exact T N K | exit-with-threads T N | spin | manual | timed N | calls N | "
               "throttled N M | marked N | compensation ROUNDS [CHILD_SPIN [GRANDCHILD_SPIN]] | signals MS | sigterm-exit | clone-exec | deep N | paced MS | future | migrate | long-exception | cpu MS | reset-signals MS | exec-perf-fds | ping-pong ROUNDS\n",
               Argv[0]);
  return 2;
}
