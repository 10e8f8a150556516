// Hooks into process and thread life: exec* writes everything recorded so far before the
// process image is replaced (exec runs no exit handlers; the new image joins the same run
// through SCOPEPROF_RUN_DIR), and a thread renaming itself is noted where it happens.
#include "Internal.h"
#include "scopeprof/scope.h"

#include <pthread.h>
#include <cstdarg>
#include <dlfcn.h>
#include <unistd.h>
#include <vector>

namespace {

template <typename Fn> Fn real(const char *Name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, Name));
}

/// Collects the variadic arguments of execl/execlp/execle, up to the terminating null.
std::vector<char *> collectArgs(const char *First, va_list Ap) {
  std::vector<char *> Args = {const_cast<char *>(First)};
  while (char *A = va_arg(Ap, char *))
    Args.push_back(A);
  Args.push_back(nullptr);
  return Args;
}

using ExecV = int (*)(const char *, char *const[]);
using ExecVE = int (*)(const char *, char *const[], char *const[]);
using SetName = int (*)(pthread_t, const char *);
using CreateFn = int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

CreateFn libcCreate() {
  static CreateFn Fn = real<CreateFn>("pthread_create");
  return Fn;
}

/// Set while the runtime creates a thread of its own: the interposer below lets it through.
__thread bool CreatingOwnThread __attribute__((tls_model("initial-exec"))) = false;

/// ThreadSanitizer runs its own code at a new thread's start, before the routine it was given:
/// ours, wrapped inside, would run in a thread it has not set up yet. Its threads are tracked
/// from their first record, as before the interposer.
bool underThreadSanitizer() {
  static const bool Tsan = dlsym(RTLD_DEFAULT, "__tsan_init") != nullptr;
  return Tsan;
}

} // namespace

extern "C" {

// A new thread of the program tracks its context switches from its start, so the CPU time of
// the calls it opens before its first one ends (its outermost ones) is known.
int pthread_create(pthread_t *Thread, const pthread_attr_t *Attr, void *(*Fn)(void *), void *Arg) {
  if (CreatingOwnThread || underThreadSanitizer())
    return libcCreate()(Thread, Attr, Fn, Arg);
  void *Start = scopeprof::runtime::trackedThreadStart(Fn, Arg);
  if (!Start)
    return libcCreate()(Thread, Attr, Fn, Arg);
  int Error = libcCreate()(Thread, Attr, scopeprof::runtime::runTrackedThread, Start);
  if (Error != 0)
    scopeprof::runtime::forgetThreadStart(Start);
  return Error;
}

int pthread_setname_np(pthread_t Thread, const char *Name) {
  int Result = real<SetName>("pthread_setname_np")(Thread, Name);
  if (Result == 0 && pthread_equal(Thread, pthread_self()))
    scopeprof::runtime::recordThreadName(Name);
  return Result;
}

int execve(const char *Path, char *const Argv[], char *const Envp[]) {
  scopeprof_flush();
  return real<ExecVE>("execve")(Path, Argv, Envp);
}

int execv(const char *Path, char *const Argv[]) {
  scopeprof_flush();
  return real<ExecV>("execv")(Path, Argv);
}

int execvp(const char *File, char *const Argv[]) {
  scopeprof_flush();
  return real<ExecV>("execvp")(File, Argv);
}

int execvpe(const char *File, char *const Argv[], char *const Envp[]) {
  scopeprof_flush();
  return real<ExecVE>("execvpe")(File, Argv, Envp);
}

int execl(const char *Path, const char *Arg, ...) {
  va_list Ap;
  va_start(Ap, Arg);
  std::vector<char *> Args = collectArgs(Arg, Ap);
  va_end(Ap);
  return execv(Path, Args.data());
}

int execlp(const char *File, const char *Arg, ...) {
  va_list Ap;
  va_start(Ap, Arg);
  std::vector<char *> Args = collectArgs(Arg, Ap);
  va_end(Ap);
  return execvp(File, Args.data());
}

int execle(const char *Path, const char *Arg, ...) {
  va_list Ap;
  va_start(Ap, Arg);
  std::vector<char *> Args = collectArgs(Arg, Ap);
  char *const *Envp = va_arg(Ap, char *const *);
  va_end(Ap);
  return execve(Path, Args.data(), Envp);
}

} // extern "C"

namespace scopeprof::runtime {
int createOwnThread(pthread_t *Thread, const pthread_attr_t *Attr, void *(*Fn)(void *),
                    void *Arg) {
  // Through whatever pthread_create comes first (a sanitizer's interceptor must see every
  // thread), which reaches the interposer above last.
  CreatingOwnThread = true;
  int Error = pthread_create(Thread, Attr, Fn, Arg);
  CreatingOwnThread = false;
  return Error;
}
} // namespace scopeprof::runtime
