/* scopeprof/scope.h: what instrumented code includes. SCOPEPROF_FN is the one line the rewriter
 * puts at the top of a function body; the rest is the manual and control API. C and C++. */
#ifndef SCOPEPROF_SCOPE_H
#define SCOPEPROF_SCOPE_H

/* Rewritten files include this header under the project's own flags, however strict
 * (-std=c89 -pedantic-errors -Werror -Wconversion ...): those flags are for the project's code.
 * As a system header, its GNU extensions (__thread, __attribute__((cleanup)), builtins) and the
 * tokens SCOPEPROF_FN expands to raise no warning; the code is kept clean under them anyway. */
#if defined(__GNUC__)
#pragma GCC system_header
#endif

#include <stdint.h>

/* C89 has no inline keyword; every GNU compiler has __inline__. Always inlined: left to its
 * heuristics, GCC kept the scope's constructor out of line in small hot functions (a call, and
 * the scope object in memory, on every call: 2x the run time of a parser whose sites were all
 * off), and a function that calls nothing can then no longer be inlined into its caller's loop. */
#define SCOPEPROF_ALWAYS_INLINE __inline__ __attribute__((__always_inline__))
#define SCOPEPROF_INLINE static SCOPEPROF_ALWAYS_INLINE

#ifdef __cplusplus
extern "C" {
#endif

/* Site states. The hot path tests for SCOPEPROF_SITE_ON first; a new site is registered
 * (rules evaluated, index assigned) the first time it runs; a site the auto-throttle cut is
 * sampled: about one of its calls in 64 is recorded (docs/runtime.md, "Auto-throttle"). */
enum {
  SCOPEPROF_SITE_OFF = 0,
  SCOPEPROF_SITE_ON = 1,
  SCOPEPROF_SITE_NEW = 2,
  SCOPEPROF_SITE_SAMPLED = 3
};

/* Kind bits, the same as the rules language's kind: selector. */
enum {
  SCOPEPROF_KIND_FREE = 1u << 0,
  SCOPEPROF_KIND_METHOD = 1u << 1,
  SCOPEPROF_KIND_CTOR = 1u << 2,
  SCOPEPROF_KIND_DTOR = 1u << 3,
  SCOPEPROF_KIND_OPERATOR = 1u << 4,
  SCOPEPROF_KIND_LAMBDA = 1u << 5,
  SCOPEPROF_KIND_STATIC = 1u << 6,
  SCOPEPROF_KIND_TEMPLATE = 1u << 7
};

/* One per instrumented function (per instantiation for templates; they share the id).
 * Constant-initialized, so there is no guard variable on the hot path. */
typedef struct scopeprof_site {
  uint32_t state; /* first: the only field the hot path reads */
  uint32_t index; /* process-wide, assigned at registration */
  uint64_t id;    /* stable hash of (project-relative file, qualified signature) */
  const char *signature;
  const char *file;
  uint32_t line;
  uint32_t kinds;
  struct scopeprof_site *next; /* the registry of sites seen so far */
} scopeprof_site;

/* A completed call, 24 bytes in the per-thread buffer. meta packs the site index (bits 0-31),
 * the depth (32-47, saturated at 0xFFFF) and flags (48-63); times are raw clock ticks (see
 * docs/log-format.md). */
typedef struct scopeprof_record {
  uint64_t meta;
  uint64_t start;
  uint64_t end;
} scopeprof_record;

/* Not 1ull: long long constants are C99. */
#define SCOPEPROF_FLAG_BROKEN ((uint64_t)1 << 48) /* left by an exception */
#define SCOPEPROF_FLAG_DEEP ((uint64_t)1 << 49)   /* deeper than 0xFFFF: the depth saturated */
#define SCOPEPROF_FLAG_SAMPLED ((uint64_t)1 << 50) /* one sampled call of a throttled site */
#define SCOPEPROF_FLAG_EXT ((uint64_t)1 << 63)    /* not a call: an extension unit, see log-format.md */

/* Per-thread hot state. Trivially destructible and constant-initialized, so a thread_local
 * access is one instruction and costs no destructor registration; a key destructor inside
 * the runtime flushes at thread exit. pos == end means "no buffer yet, or full". */
typedef struct scopeprof_thread {
  scopeprof_record *pos;
  scopeprof_record *end;
  uint32_t depth;
  uint32_t throw_epoch; /* bumped by every throw in this thread */
  /* Set while this thread is inside the recorder. A signal handler that interrupts it there and
   * calls instrumented code must not touch the buffer or a lock the thread may hold: its calls
   * are counted as dropped instead (async-signal safety). */
  uint32_t busy;
  /* The thread's random state for sampling throttled sites (xorshift32; 0: not seeded yet). */
  uint32_t sample_random;
  /* SCOPEPROF_COUNTERS=memory: the runtime's malloc counts this thread's allocations here, and
   * each scope writes what was allocated while it was open (docs/runtime.md, "Allocations"). */
  uint64_t allocs;
  uint64_t alloc_bytes;
} scopeprof_thread;

extern __thread scopeprof_thread scopeprof_tls __attribute__((tls_model("initial-exec")));
extern int scopeprof_clock_is_tsc;
/* Set once at start when SCOPEPROF_COUNTERS has memory and the allocations can be counted. */
extern int scopeprof_count_memory;

/* Slow paths, out of line. */
int scopeprof_register_site(scopeprof_site *site);
/* Seeds this thread's sampling state; returns whether the call at hand is sampled. */
int scopeprof_seed_sampling(void);
scopeprof_record *scopeprof_refill(void);
void scopeprof_exit_unwound(scopeprof_site *site, uint64_t start, uint64_t end, uint32_t depth,
                            uint64_t flags);
/* A call the recorder cannot write: it interrupted the recorder (a signal handler), or its
 * scope ended on another thread than it began on. Counted as dropped. */
void scopeprof_drop_call(void);
/* What the call about to be appended allocated (inclusive); only called when it did. */
void scopeprof_note_allocations(uint64_t allocs, uint64_t bytes);

/* Control API. */
void scopeprof_enable(void);
void scopeprof_disable(void);
void scopeprof_flush(void);
/* Replaces the run-time rules (the rules language); returns 0, or -1 with a message on stderr. */
int scopeprof_set_rules(const char *text);
/* The run directory this process writes to, or NULL when recording is off. */
const char *scopeprof_run_dir(void);

/* Regions: manual intervals that can be paused; paused time is excluded from the duration.
 * Regions with the same name and file share one site. */
typedef struct scopeprof_region {
  const char *name;
  const char *file;
  uint32_t line;
  uint32_t running;
  uint64_t start;
  uint64_t paused_since; /* 0 while running */
  uint64_t paused_ticks;
  uint32_t depth;
  uint32_t index; /* the shared site's index, while running */
} scopeprof_region;
void scopeprof_region_start(scopeprof_region *region);
void scopeprof_region_pause(scopeprof_region *region);
void scopeprof_region_resume(scopeprof_region *region);
void scopeprof_region_stop(scopeprof_region *region);

/* Profile cases (scopeprof/cases.h, the GoogleTest listener; docs/cases.md): every call of the
 * process, on any thread, that starts while a case is open belongs to it. One case is open at a
 * time: beginning one ends the one open. Flags: SCOPEPROF_CASE_WARMUP at the beginning,
 * SCOPEPROF_CASE_FAILED at the end (the flags of both are kept). */
#define SCOPEPROF_CASE_WARMUP 1u
#define SCOPEPROF_CASE_FAILED 2u
void scopeprof_case_begin(const char *name, uint32_t repetition, uint32_t flags);
void scopeprof_case_end(uint32_t flags);

uint64_t scopeprof_monotonic_ticks(void);

SCOPEPROF_INLINE uint64_t scopeprof_now(void) {
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_expect(scopeprof_clock_is_tsc != 0, 1))
    return __builtin_ia32_rdtsc();
#endif
  return scopeprof_monotonic_ticks();
}

SCOPEPROF_INLINE uint64_t scopeprof_meta(uint32_t index, uint32_t depth) {
  if (__builtin_expect(depth < 0xFFFFu, 1))
    return index | ((uint64_t)depth << 32);
  return index | ((uint64_t)0xFFFF << 32) | SCOPEPROF_FLAG_DEEP;
}

/* Whether a call of a site that is not simply on is recorded: never when off; when throttled,
 * each call with probability 1/64, drawn independently (a shared countdown would make a
 * throttled call and the throttled calls nested in it almost never sampled together, and their
 * times would be counted twice); a new site once it is registered and on. */
SCOPEPROF_INLINE int scopeprof_wanted(scopeprof_site *site, uint32_t state) {
  uint32_t x;
  if (state == SCOPEPROF_SITE_OFF)
    return 0;
  if (state == SCOPEPROF_SITE_SAMPLED) {
    x = scopeprof_tls.sample_random;
    if (__builtin_expect(x == 0, 0))
      return scopeprof_seed_sampling();
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    scopeprof_tls.sample_random = x;
    return (x >> 26) == 0;
  }
  return scopeprof_register_site(site);
}

SCOPEPROF_INLINE void scopeprof_append(uint64_t meta, uint64_t start, uint64_t end) {
  scopeprof_record *r;
  if (__builtin_expect(scopeprof_tls.busy, 0)) {
    scopeprof_drop_call();
    return;
  }
  scopeprof_tls.busy = 1;
  __atomic_signal_fence(__ATOMIC_SEQ_CST); /* a handler sees busy before the buffer moves */
  r = scopeprof_tls.pos;
  if (__builtin_expect(r == scopeprof_tls.end, 0))
    r = scopeprof_refill();
  r->meta = meta;
  r->start = start;
  r->end = end;
  /* Release: a flusher on another thread may read up to pos. */
  __atomic_store_n(&scopeprof_tls.pos, r + 1, __ATOMIC_RELEASE);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  scopeprof_tls.busy = 0;
}

/* The C form: a cleanup attribute ends the scope. The depth at entry is kept and restored at
 * exit, so scopes a longjmp skipped cannot leave the depth wrong past the next exit. */
typedef struct scopeprof_c_scope {
  scopeprof_site *site;
  scopeprof_thread *thread;
  uint64_t start;
  uint32_t depth;
  uint32_t sampled;
  uint64_t allocs, alloc_bytes; /* the thread's counts at entry, when it counts them */
} scopeprof_c_scope;

SCOPEPROF_INLINE scopeprof_c_scope scopeprof_c_enter(scopeprof_site *site) {
  scopeprof_c_scope s = {0, 0, 0, 0, 0, 0, 0};
  /* Acquire: a site switched on at run time (enable, rules, ctl) was registered by another
   * thread, whose index this call reads. On x86-64 the same plain load as a relaxed one. */
  uint32_t state = __atomic_load_n(&site->state, __ATOMIC_ACQUIRE);
  if (__builtin_expect(state != SCOPEPROF_SITE_ON, 0) && !scopeprof_wanted(site, state))
    return s;
  s.sampled = (uint32_t)(state == SCOPEPROF_SITE_SAMPLED);
  s.site = site;
  s.thread = &scopeprof_tls;
  s.depth = s.thread->depth++;
  if (__builtin_expect(scopeprof_count_memory != 0, 0)) {
    s.allocs = s.thread->allocs;
    s.alloc_bytes = s.thread->alloc_bytes;
  }
  s.start = scopeprof_now();
  return s;
}

SCOPEPROF_INLINE void scopeprof_c_exit(scopeprof_c_scope *s) {
  uint64_t end;
  if (!s->site)
    return;
  end = scopeprof_now();
  if (__builtin_expect(s->thread != &scopeprof_tls, 0)) {
    scopeprof_drop_call();
    return;
  }
  scopeprof_tls.depth = s->depth;
  if (__builtin_expect(scopeprof_count_memory != 0, 0) && scopeprof_tls.allocs != s->allocs)
    scopeprof_note_allocations(scopeprof_tls.allocs - s->allocs, scopeprof_tls.alloc_bytes - s->alloc_bytes);
  scopeprof_append(scopeprof_meta(s->site->index, s->depth) | (s->sampled ? SCOPEPROF_FLAG_SAMPLED : 0),
                   s->start, end);
}

#ifdef __cplusplus
} /* extern "C" */
#endif

/* The C++ API needs C++11; C++98/03 code gets the C form below (its scopes end on every exit,
 * but a call left by an exception is not flagged as broken). */
#if defined(__cplusplus)
#if __cplusplus >= 201103L
#define SCOPEPROF_CXX11_API 1
#endif
#endif

#ifdef SCOPEPROF_CXX11_API

namespace scopeprof {
namespace detail {

/* The RAII scope SCOPEPROF_FN declares. A throw in this thread while the scope is open
 * bumps throw_epoch; only then does the destructor take the slow path to find out whether
 * it is being unwound. The depth at entry is kept and restored at exit (a longjmp over scopes
 * cannot leave it wrong past the next exit), and so is the thread: a scope that ends on
 * another thread (a coroutine resumed elsewhere) is counted, never written with a wrong depth. */
class Scope {
public:
  // Every member starts set: gcc's -Wmaybe-uninitialized (reported in the user's code, where
  // the scope is inlined) cannot follow that the destructor reads them only for an on site.
  explicit SCOPEPROF_ALWAYS_INLINE Scope(scopeprof_site *S) noexcept
      : Site(nullptr), Thread(nullptr), Start(0), Epoch(0), Depth(0), Flags(0), Allocs(0),
        AllocBytes(0) {
    // Acquire, as in scopeprof_c_enter: the index was written by the registering thread.
    uint32_t State = __atomic_load_n(&S->state, __ATOMIC_ACQUIRE);
    if (__builtin_expect(State != SCOPEPROF_SITE_ON, 0)) {
      if (!scopeprof_wanted(S, State))
        return;
      if (State == SCOPEPROF_SITE_SAMPLED)
        Flags = SCOPEPROF_FLAG_SAMPLED;
    }
    Site = S;
    Thread = &scopeprof_tls;
    Epoch = Thread->throw_epoch;
    Depth = Thread->depth++;
    if (__builtin_expect(scopeprof_count_memory != 0, 0)) {
      Allocs = Thread->allocs;
      AllocBytes = Thread->alloc_bytes;
    }
    Start = scopeprof_now();
  }
  SCOPEPROF_ALWAYS_INLINE ~Scope() {
    if (!Site)
      return;
    uint64_t End = scopeprof_now();
    if (__builtin_expect(Thread != &scopeprof_tls, 0)) {
      scopeprof_drop_call();
      return;
    }
    Thread->depth = Depth;
    if (__builtin_expect(scopeprof_count_memory != 0, 0) && Thread->allocs != Allocs)
      scopeprof_note_allocations(Thread->allocs - Allocs, Thread->alloc_bytes - AllocBytes);
    if (__builtin_expect(Epoch != Thread->throw_epoch, 0))
      scopeprof_exit_unwound(Site, Start, End, Depth, Flags);
    else
      scopeprof_append(scopeprof_meta(Site->index, Depth) | Flags, Start, End);
  }
  Scope(const Scope &) = delete;
  Scope &operator=(const Scope &) = delete;

private:
  scopeprof_site *Site;
  scopeprof_thread *Thread;
  uint64_t Start;
  uint32_t Epoch;
  uint32_t Depth;
  uint64_t Flags; /* SCOPEPROF_FLAG_SAMPLED, or 0 */
  uint64_t Allocs, AllocBytes; /* the thread's counts at entry, when it counts them */
};

/* FNV-1a, at compile time, for SCOPEPROF_SCOPE's ids. */
constexpr uint64_t hash(const char *S, uint64_t H = 0xcbf29ce484222325ull) {
  return *S ? hash(S + 1, (H ^ static_cast<unsigned char>(*S)) * 0x100000001b3ull) : H;
}

} // namespace detail

inline void enable() { scopeprof_enable(); }
inline void disable() { scopeprof_disable(); }
inline void flush() { scopeprof_flush(); }
inline bool setRules(const char *Text) { return scopeprof_set_rules(Text) == 0; }

/* A named interval that can be paused; paused time is excluded from its duration. */
class Region {
public:
  explicit Region(const char *Name, const char *File = __builtin_FILE(),
                  uint32_t Line = __builtin_LINE()) noexcept
      : R{Name, File, Line, 0, 0, 0, 0, 0, 0} {}
  ~Region() { stop(); }
  void start() noexcept { scopeprof_region_start(&R); }
  void pause() noexcept { scopeprof_region_pause(&R); }
  void resume() noexcept { scopeprof_region_resume(&R); }
  void stop() noexcept { scopeprof_region_stop(&R); }
  Region(const Region &) = delete;
  Region &operator=(const Region &) = delete;

private:
  scopeprof_region R;
};

} // namespace scopeprof

#define SCOPEPROF_CAT2(a, b) a##b
#define SCOPEPROF_CAT(a, b) SCOPEPROF_CAT2(a, b)

/* SCOPEPROF_FN(id, "qualified signature", "file", line, kinds) */
#define SCOPEPROF_FN(ID, SIGNATURE, FILE, LINE, KINDS)                                        \
  static scopeprof_site scopeprof_site_ = {SCOPEPROF_SITE_NEW, 0, ID, SIGNATURE, FILE, LINE,   \
                                           KINDS, nullptr};                                    \
  ::scopeprof::detail::Scope scopeprof_scope_(&scopeprof_site_)

/* SCOPEPROF_SCOPE("name"): any block, until the end of the enclosing scope. */
#define SCOPEPROF_SCOPE(NAME)                                                                  \
  static scopeprof_site SCOPEPROF_CAT(scopeprof_site_, __LINE__) = {                           \
      SCOPEPROF_SITE_NEW, 0, ::scopeprof::detail::hash(NAME, ::scopeprof::detail::hash(__FILE__)), \
      NAME, __FILE__, __LINE__, 0, nullptr};                                                   \
  ::scopeprof::detail::Scope SCOPEPROF_CAT(scopeprof_scope_, __LINE__)(                        \
      &SCOPEPROF_CAT(scopeprof_site_, __LINE__))

#else /* C, C++98/03 */

/* gcc's -Wzero-as-null-pointer-constant sees through the system header in C++98. */
#ifdef __cplusplus
#define SCOPEPROF_NULL __null
#else
#define SCOPEPROF_NULL 0
#endif

#define SCOPEPROF_FN(ID, SIGNATURE, FILE, LINE, KINDS)                                        \
  static scopeprof_site scopeprof_site_ = {SCOPEPROF_SITE_NEW, 0, ID, SIGNATURE, FILE, LINE,   \
                                           KINDS, SCOPEPROF_NULL};                             \
  __attribute__((cleanup(scopeprof_c_exit))) scopeprof_c_scope scopeprof_scope_ =              \
      scopeprof_c_enter(&scopeprof_site_)

#endif /* SCOPEPROF_CXX11_API */

#endif /* SCOPEPROF_SCOPE_H */
