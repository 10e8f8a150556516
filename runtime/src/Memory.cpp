// SCOPEPROF_COUNTERS=memory: the shared runtime defines the C allocation functions, so a
// program linked against it (and everything it loads) allocates through them. Each counts the
// calling thread's allocations in its hot state, where the open scopes read them (scope.h), and
// forwards to the allocator that comes next in the symbol search order: glibc's, or one the
// program brings (jemalloc, tcmalloc), which keeps working. operator new reaches malloc through
// libstdc++. Frees need no counting: a call's figures are what it allocated, not what it kept.
// Only in the shared runtime: defined in a static library, they would replace the program's
// allocator in every program linking it, asked for or not.
#include "Recorder.h"

#include <dlfcn.h>

#include <cstddef>

extern "C" {
// glibc's own entry points, for the allocations made before the next allocator is resolved
// (dlsym itself may allocate).
void *__libc_malloc(size_t Size);
void *__libc_calloc(size_t Count, size_t Size);
void *__libc_realloc(void *Ptr, size_t Size);
void *__libc_memalign(size_t Alignment, size_t Size);
}

namespace {

using MallocFn = void *(*)(size_t);
using CallocFn = void *(*)(size_t, size_t);
using ReallocFn = void *(*)(void *, size_t);
using AlignedFn = void *(*)(size_t, size_t);
using PosixMemalignFn = int (*)(void **, size_t, size_t);

struct NextAllocator {
  MallocFn Malloc = nullptr;
  CallocFn Calloc = nullptr;
  ReallocFn Realloc = nullptr;
  AlignedFn Memalign = nullptr, AlignedAlloc = nullptr;
  PosixMemalignFn PosixMemalign = nullptr;
  MallocFn Valloc = nullptr;
};
NextAllocator Next;

template <typename Fn> Fn lookup(const char *Name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, Name));
}

// Before any constructor of the program: every allocation after this goes to the next allocator.
__attribute__((constructor(101))) void resolveNextAllocator() {
  NextAllocator N;
  N.Malloc = lookup<MallocFn>("malloc");
  N.Calloc = lookup<CallocFn>("calloc");
  N.Realloc = lookup<ReallocFn>("realloc");
  N.Memalign = lookup<AlignedFn>("memalign");
  N.AlignedAlloc = lookup<AlignedFn>("aligned_alloc");
  N.PosixMemalign = lookup<PosixMemalignFn>("posix_memalign");
  N.Valloc = lookup<MallocFn>("valloc");
  Next = N;
}

/// One allocation of \p Bytes by this thread, unless it is the recorder's own (busy).
inline void count(size_t Bytes) {
  scopeprof_thread &T = scopeprof_tls;
  if (__builtin_expect(scopeprof_count_memory != 0, 0) && !T.busy) {
    ++T.allocs;
    T.alloc_bytes += Bytes;
  }
}

} // namespace

extern "C" {

// Under a hidden name too: its own address, whatever malloc resolves to in the process.
__attribute__((visibility("hidden"))) void *scopeprof_counting_malloc(size_t Size) {
  count(Size);
  return Next.Malloc ? Next.Malloc(Size) : __libc_malloc(Size);
}

__attribute__((visibility("default"), alias("scopeprof_counting_malloc"))) void *malloc(size_t Size);

__attribute__((visibility("default"))) void *calloc(size_t Count, size_t Size) {
  count(Count * Size);
  return Next.Calloc ? Next.Calloc(Count, Size) : __libc_calloc(Count, Size);
}

// A realloc is an allocation of the new size (it may move the block); realloc(p, 0) frees.
__attribute__((visibility("default"))) void *realloc(void *Ptr, size_t Size) {
  if (Size)
    count(Size);
  return Next.Realloc ? Next.Realloc(Ptr, Size) : __libc_realloc(Ptr, Size);
}

__attribute__((visibility("default"))) void *memalign(size_t Alignment, size_t Size) {
  count(Size);
  return Next.Memalign ? Next.Memalign(Alignment, Size) : __libc_memalign(Alignment, Size);
}

__attribute__((visibility("default"))) void *aligned_alloc(size_t Alignment, size_t Size) {
  count(Size);
  return Next.AlignedAlloc ? Next.AlignedAlloc(Alignment, Size) : __libc_memalign(Alignment, Size);
}

__attribute__((visibility("default"))) int posix_memalign(void **Out, size_t Alignment,
                                                          size_t Size) {
  count(Size);
  if (Next.PosixMemalign)
    return Next.PosixMemalign(Out, Alignment, Size);
  *Out = __libc_memalign(Alignment, Size);
  return *Out ? 0 : 12; // ENOMEM
}

__attribute__((visibility("default"))) void *valloc(size_t Size) {
  count(Size);
  return Next.Valloc ? Next.Valloc(Size) : __libc_memalign(4096, Size);
}

} // extern "C"

namespace scopeprof::runtime {

bool allocationsCounted() {
  // The malloc the program's calls resolve to is this file's unless something earlier in the
  // search order (a sanitizer, a preloaded allocator) defines it.
  return dlsym(RTLD_DEFAULT, "malloc") == reinterpret_cast<void *>(&scopeprof_counting_malloc);
}

} // namespace scopeprof::runtime
