// Preloaded to make perf_event_open fail as a kernel that refuses it does (perf_event_paranoid
// 3, a seccomp filter): the runtime must record on without CPU time, and say so only if asked.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>

long syscall(long Number, ...) {
  if (Number == SYS_perf_event_open) {
    errno = EACCES;
    return -1;
  }
  // Every other system call goes through with its (up to six) arguments.
  va_list Ap;
  va_start(Ap, Number);
  long A[6];
  for (int I = 0; I < 6; ++I)
    A[I] = va_arg(Ap, long);
  va_end(Ap);
  static long (*Real)(long, ...);
  if (!Real)
    Real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  return Real(Number, A[0], A[1], A[2], A[3], A[4], A[5]);
}
