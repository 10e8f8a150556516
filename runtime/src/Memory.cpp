// SCOPEPROF_COUNTERS=memory: the shared runtime defines the C allocation functions, so a
// program linked against it (and everything it loads) allocates through them. Each counts the
// calling thread's allocations in its hot state, where the open scopes read them (scope.h), and
// forwards to the allocator that comes next in the symbol search order: glibc's, or one the
// program brings (jemalloc, tcmalloc), which keeps working. operator new reaches malloc through
// libstdc++. Frees are seen for the live bytes only (a call's counts are what it asked for, not
// what it kept): each thread's live bytes are the usable sizes (malloc_usable_size) of the blocks
// it allocated less those of the blocks it freed, whoever allocated them, and the scopes of
// counted sites take the peak of them during the call (scope.h).
// Only in the shared runtime: defined in a static library, they would replace the program's
// allocator in every program linking it, asked for or not.
#include "Recorder.h"

#include <dlfcn.h>
#include <malloc.h>

#include <cstddef>

extern "C" {
// glibc's own entry points, for the allocations made before the next allocator is resolved
// (dlsym itself may allocate).
void *__libc_malloc(size_t Size);
void *__libc_calloc(size_t Count, size_t Size);
void *__libc_realloc(void *Ptr, size_t Size);
void *__libc_memalign(size_t Alignment, size_t Size);
void __libc_free(void *Ptr);
}

namespace {

using MallocFn = void *(*)(size_t);
using CallocFn = void *(*)(size_t, size_t);
using ReallocFn = void *(*)(void *, size_t);
using AlignedFn = void *(*)(size_t, size_t);
using PosixMemalignFn = int (*)(void **, size_t, size_t);
using FreeFn = void (*)(void *);

struct NextAllocator {
  MallocFn Malloc = nullptr;
  CallocFn Calloc = nullptr;
  ReallocFn Realloc = nullptr;
  AlignedFn Memalign = nullptr, AlignedAlloc = nullptr;
  PosixMemalignFn PosixMemalign = nullptr;
  MallocFn Valloc = nullptr;
  FreeFn Free = nullptr;
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
  N.Free = lookup<FreeFn>("free");
  Next = N;
}

/// Whether this thread's allocations are counted now: not the recorder's own (busy).
inline bool counting() {
  return __builtin_expect(scopeprof_count_memory != 0, 0) && !scopeprof_tls.busy;
}

/// One allocation of \p Bytes by this thread, unless it is the recorder's own (busy).
inline void count(size_t Bytes) {
  scopeprof_thread &T = scopeprof_tls;
  if (counting()) {
    ++T.allocs;
    T.alloc_bytes += Bytes;
  }
}

/// The live bytes of this thread move by \p Added - \p Freed (usable sizes); a new high is
/// the peak of the calls open (scope.h restores it for their callers).
inline void live(uint64_t Added, uint64_t Freed) {
  scopeprof_thread &T = scopeprof_tls;
  T.live_bytes += Added - Freed;
  if (static_cast<int64_t>(T.live_bytes - T.peak_bytes) > 0)
    T.peak_bytes = T.live_bytes;
}

/// Counts an allocation of \p Bytes that returned \p Ptr.
inline void *allocated(size_t Bytes, void *Ptr, bool Counting) {
  if (Counting && Ptr) {
    count(Bytes);
    live(malloc_usable_size(Ptr), 0);
  }
  return Ptr;
}

} // namespace

extern "C" {

// Under a hidden name too: its own address, whatever malloc resolves to in the process.
__attribute__((visibility("hidden"))) void *scopeprof_counting_malloc(size_t Size) {
  bool Counting = counting();
  return allocated(Size, Next.Malloc ? Next.Malloc(Size) : __libc_malloc(Size), Counting);
}

__attribute__((visibility("default"), alias("scopeprof_counting_malloc"))) void *malloc(size_t Size);

__attribute__((visibility("default"))) void *calloc(size_t Count, size_t Size) {
  bool Counting = counting();
  return allocated(Count * Size,
                   Next.Calloc ? Next.Calloc(Count, Size) : __libc_calloc(Count, Size), Counting);
}

// A realloc is an allocation of the new size (it may move the block); realloc(p, 0) frees.
// For the live bytes the old block is gone and the new one is there.
__attribute__((visibility("default"))) void *realloc(void *Ptr, size_t Size) {
  bool Counting = counting();
  uint64_t Old = Counting && Ptr ? malloc_usable_size(Ptr) : 0;
  void *New = Next.Realloc ? Next.Realloc(Ptr, Size) : __libc_realloc(Ptr, Size);
  if (Counting) {
    if (Size)
      count(Size);
    if (New)
      live(malloc_usable_size(New), Old);
    else if (!Size)
      live(0, Old);
  }
  return New;
}

__attribute__((visibility("default"))) void free(void *Ptr) {
  if (Ptr && counting())
    live(0, malloc_usable_size(Ptr));
  if (Next.Free)
    Next.Free(Ptr);
  else
    __libc_free(Ptr);
}

__attribute__((visibility("default"))) void *memalign(size_t Alignment, size_t Size) {
  bool Counting = counting();
  return allocated(Size,
                   Next.Memalign ? Next.Memalign(Alignment, Size) : __libc_memalign(Alignment, Size),
                   Counting);
}

__attribute__((visibility("default"))) void *aligned_alloc(size_t Alignment, size_t Size) {
  bool Counting = counting();
  return allocated(
      Size, Next.AlignedAlloc ? Next.AlignedAlloc(Alignment, Size) : __libc_memalign(Alignment, Size),
      Counting);
}

__attribute__((visibility("default"))) int posix_memalign(void **Out, size_t Alignment,
                                                          size_t Size) {
  bool Counting = counting();
  int Error;
  if (Next.PosixMemalign) {
    Error = Next.PosixMemalign(Out, Alignment, Size);
  } else {
    *Out = __libc_memalign(Alignment, Size);
    Error = *Out ? 0 : 12; // ENOMEM
  }
  if (Error == 0)
    allocated(Size, *Out, Counting);
  return Error;
}

__attribute__((visibility("default"))) void *valloc(size_t Size) {
  bool Counting = counting();
  return allocated(Size, Next.Valloc ? Next.Valloc(Size) : __libc_memalign(4096, Size), Counting);
}

} // extern "C"

namespace scopeprof::runtime {

bool allocationsCounted() {
  // The malloc the program's calls resolve to is this file's unless something earlier in the
  // search order (a sanitizer, a preloaded allocator) defines it.
  return dlsym(RTLD_DEFAULT, "malloc") == reinterpret_cast<void *>(&scopeprof_counting_malloc);
}

} // namespace scopeprof::runtime
