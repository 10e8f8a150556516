// Non-local jumps: a longjmp over open scopes skips their exits, so the thread's depth would stay
// as deep as the jump started. The depth at each setjmp is noted, keyed by its jmp_buf, and put
// back by the longjmp that returns there: calls after the jump have their true depth. x86-64
// glibc only (the setjmp stubs are assembly); elsewhere a scope's exit restores the depth it
// entered at, which corrects it at the next exit of an enclosing scope.
#include "Recorder.h"

#include <dlfcn.h>

#if defined(__x86_64__) && defined(__GLIBC__)

struct __jmp_buf_tag;

namespace {

/// The last few setjmp points of this thread: programs use one or two at a time.
struct JumpPoint {
  const void *Env;
  uint32_t Depth;
};
constexpr unsigned JumpSlots = 8;
__thread JumpPoint Points[JumpSlots] __attribute__((tls_model("initial-exec")));
__thread unsigned NextSlot __attribute__((tls_model("initial-exec")));

using LongJmp = void (*)(__jmp_buf_tag *, int);

void restoreDepth(const void *Env) {
  for (const JumpPoint &P : Points)
    if (P.Env == Env) {
      scopeprof_tls.depth = P.Depth;
      return;
    }
}

[[noreturn]] void jump(const char *Name, __jmp_buf_tag *Env, int Value) {
  restoreDepth(Env);
  reinterpret_cast<LongJmp>(dlsym(RTLD_NEXT, Name))(Env, Value);
  __builtin_unreachable();
}

} // namespace

extern "C" {

// The real functions, for the stubs' tail jumps; resolved by the first note.
__attribute__((visibility("hidden"))) void *scopeprof_real_setjmp, *scopeprof_real__setjmp,
    *scopeprof_real___sigsetjmp;

__attribute__((visibility("hidden"))) void scopeprof_note_setjmp(const void *Env) {
  if (!scopeprof_real___sigsetjmp) {
    scopeprof_real_setjmp = dlsym(RTLD_NEXT, "setjmp");
    scopeprof_real__setjmp = dlsym(RTLD_NEXT, "_setjmp");
    scopeprof_real___sigsetjmp = dlsym(RTLD_NEXT, "__sigsetjmp");
  }
  for (JumpPoint &P : Points)
    if (P.Env == Env) {
      P.Depth = scopeprof_tls.depth;
      return;
    }
  Points[NextSlot++ % JumpSlots] = {Env, scopeprof_tls.depth};
}

// setjmp saves its caller's registers and stack, so it cannot be wrapped by a C function: each
// stub notes the depth (saving the argument registers around the call, keeping the stack
// aligned) and then jumps, not calls, into the real function, with the caller's return address
// still on top of the stack.
__asm__(R"(
  .text
  .globl setjmp
  .type setjmp, @function
setjmp:
  push %rdi
  call scopeprof_note_setjmp
  pop %rdi
  jmp *scopeprof_real_setjmp(%rip)
  .size setjmp, .-setjmp

  .globl _setjmp
  .type _setjmp, @function
_setjmp:
  push %rdi
  call scopeprof_note_setjmp
  pop %rdi
  jmp *scopeprof_real__setjmp(%rip)
  .size _setjmp, .-_setjmp

  .globl __sigsetjmp
  .type __sigsetjmp, @function
__sigsetjmp:
  push %rdi
  push %rsi
  sub $8, %rsp
  call scopeprof_note_setjmp
  add $8, %rsp
  pop %rsi
  pop %rdi
  jmp *scopeprof_real___sigsetjmp(%rip)
  .size __sigsetjmp, .-__sigsetjmp
)");

void longjmp(__jmp_buf_tag *Env, int Value) { jump("longjmp", Env, Value); }
void _longjmp(__jmp_buf_tag *Env, int Value) { jump("_longjmp", Env, Value); }
void siglongjmp(__jmp_buf_tag *Env, int Value) { jump("siglongjmp", Env, Value); }
void __longjmp_chk(__jmp_buf_tag *Env, int Value) { jump("__longjmp_chk", Env, Value); }

} // extern "C"

#endif
