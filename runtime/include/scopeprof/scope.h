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
/* What the inline part of a scope leaves to a call: all but the test of the site's state, a
 * marked call's mark and a sampled throttled call's countdown. The smaller the inline part, the
 * more an instrumented function is inlined into its callers as the plain one is (leveldb's
 * db_bench with every site off: 1.33x the plain run's time with the whole scope inline, 1.18x
 * with this split). */
#define SCOPEPROF_NOINLINE __attribute__((__noinline__))

#ifdef __cplusplus
extern "C" {
#endif

/* Site states. The hot path tests for SCOPEPROF_SITE_OFF first: the state of the sites the
 * auto-throttle cut while CPU samples are taken whose calls are too short to pay even for a
 * mark (docs/runtime.md, "Auto-throttle"), so the densest calls cost one load and one branch.
 * A new site is registered (rules evaluated, index assigned) the first time it runs. Of the
 * other sites the auto-throttle cut: a marked one records nothing but marks the thread as
 * inside it while its call runs, for the CPU samples; a sampled one (no CPU samples) records
 * about one call in 64. */
enum {
  SCOPEPROF_SITE_OFF = 0,
  SCOPEPROF_SITE_ON = 1,
  SCOPEPROF_SITE_NEW = 2,
  SCOPEPROF_SITE_SAMPLED = 3,
  /* Or'ed into ON or SAMPLED: the site's calls read the thread's allocation counters (rules
   * `counters memory`, or SCOPEPROF_COUNTERS=memory). Such a state is not ON, so the hot path's
   * one test sends counted sites to the branch that already handles the other states. */
  SCOPEPROF_SITE_COUNT = 4,
  SCOPEPROF_SITE_MARKED = 8
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
#define SCOPEPROF_FLAG_COUNTED ((uint64_t)1 << 51) /* the call read the allocation counters */
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
  /* Throttled calls left until the next one drawn for recording, this one included (1 in a new
   * thread, whose first throttled call starts a countdown; never 0, which the hot path's
   * decrement would wrap), and the random state that sets it (xorshift32; 0: not seeded yet). */
  uint32_t sample_countdown;
  uint32_t sample_random;
  /* SCOPEPROF_COUNTERS=memory: the runtime's malloc counts this thread's allocations here, and
   * each scope writes what was allocated while it was open (docs/runtime.md, "Allocations"). */
  uint64_t allocs;
  uint64_t alloc_bytes;
  /* Live bytes of this thread (usable sizes allocated less those freed by it; wraps below 0)
   * and the highest value reached since the innermost counted scope opened. */
  uint64_t live_bytes;
  uint64_t peak_bytes;
  /* What the CPU-time sampler reads (docs/runtime.md, "CPU samples"): the site of the
   * thread's innermost open call that is recorded or marked, and the site of its innermost
   * recorded call. Each is the site's index + 1; 0: none. Two words: a marked call stores its
   * own site without reading the other; a recorded call sets and restores both with one 64-bit
   * store (scopeprof_marks_word), so the handler, which runs on the thread itself between two
   * instructions, never sees half of it. */
  uint32_t open_mark __attribute__((__aligned__(8)));
  uint32_t recorded_mark;
} scopeprof_thread;

extern __thread scopeprof_thread scopeprof_tls __attribute__((tls_model("initial-exec")));
extern int scopeprof_clock_is_tsc;
/* Set once at start when SCOPEPROF_COUNTERS has memory and the allocations can be counted. */
extern int scopeprof_count_memory;

/* Slow paths, out of line. */
int scopeprof_register_site(scopeprof_site *site);
/* The countdown to this thread's next drawn throttled call ran out (or this is the thread's
 * first throttled call): whether the call at hand is drawn; sets the countdown to the next one. */
int scopeprof_draw_sample(void);
scopeprof_record *scopeprof_refill(void);
void scopeprof_exit_unwound(scopeprof_site *site, uint64_t start, uint64_t end, uint32_t depth,
                            uint64_t flags);
/* A call the recorder cannot write: it interrupted the recorder (a signal handler), or its
 * scope ended on another thread than it began on. Counted as dropped. */
void scopeprof_drop_call(void);
/* What the call about to be appended allocated (inclusive), and the peak of the thread's live
 * bytes during it above their value at its start; only called when it allocated. */
void scopeprof_note_memory(uint64_t allocs, uint64_t bytes, uint64_t peak);

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

/* Whether a call of a throttled site is recorded: each call with probability 1/64, independently
 * of every other (with a fixed period, a throttled call and the throttled calls nested in it
 * were almost never recorded together, and their times were counted twice). The thread counts
 * down to its next drawn call across all throttled sites; the lengths of the countdowns are
 * geometrically distributed, the gaps between successes of independent 1-in-64 draws. A call
 * costs a decrement, not a random number. */
SCOPEPROF_INLINE int scopeprof_drawn(void) {
  if (__builtin_expect(--scopeprof_tls.sample_countdown != 0, 1))
    return 0;
  return scopeprof_draw_sample();
}

/* Whether a call of a site that is not simply on is recorded: never when off; when throttled,
 * when drawn; a new site once it is registered and on. */
SCOPEPROF_INLINE int scopeprof_wanted(scopeprof_site *site, uint32_t state) {
  if (state == SCOPEPROF_SITE_OFF)
    return 0;
  state &= ~(uint32_t)SCOPEPROF_SITE_COUNT;
  if (state == SCOPEPROF_SITE_ON)
    return 1;
  if (state == SCOPEPROF_SITE_SAMPLED)
    return scopeprof_drawn();
  return scopeprof_register_site(site);
}

/* Marks the thread as inside a call of the site with this index until scopeprof_unmark(the value
 * returned). Volatile: in an inlined leaf nothing reads the mark before it is undone, and the
 * compiler would drop the store as dead; the sampler reads it from a signal handler. It is also
 * a compiler barrier (a signal fence, no instruction): otherwise the compiler may hoist the
 * function's first loads above the mark, or sink its last ones below the unmark, and a cache
 * miss there would be sampled in its caller. */
SCOPEPROF_INLINE uint32_t scopeprof_mark(uint32_t index) {
  uint32_t outer = scopeprof_tls.open_mark;
  *(volatile uint32_t *)&scopeprof_tls.open_mark = index + 1u;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  return outer;
}

SCOPEPROF_INLINE void scopeprof_unmark(uint32_t outer) {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  *(volatile uint32_t *)&scopeprof_tls.open_mark = outer;
}

/* Both marks as one word in memory, open_mark at the lower address. May alias: it is written
 * over the two 32-bit fields. */
typedef uint64_t __attribute__((__may_alias__)) scopeprof_marks_word;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SCOPEPROF_MARKS_WORD(open, recorded) (((uint64_t)(open) << 32) | (uint64_t)(recorded))
#else
#define SCOPEPROF_MARKS_WORD(open, recorded) ((uint64_t)(open) | ((uint64_t)(recorded) << 32))
#endif

/* A recorded call marks itself as the innermost open and the innermost recorded call, in one
 * store; returns both marks at entry, as a word, for scopeprof_unmark_recorded. Read as two
 * words: a 64-bit load just after a marked call's 32-bit store would wait for it. */
SCOPEPROF_INLINE uint64_t scopeprof_mark_recorded(uint32_t index) {
  uint64_t outer = SCOPEPROF_MARKS_WORD(scopeprof_tls.open_mark, scopeprof_tls.recorded_mark);
  *(volatile scopeprof_marks_word *)&scopeprof_tls.open_mark =
      SCOPEPROF_MARKS_WORD(index + 1u, index + 1u);
  return outer;
}

SCOPEPROF_INLINE void scopeprof_unmark_recorded(uint64_t outer) {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  *(volatile scopeprof_marks_word *)&scopeprof_tls.open_mark = outer;
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

/* A counted call ends: what it allocated, if anything, goes before its record; the peak the
 * enclosing counted call sees is the higher of its own so far and this call's. */
SCOPEPROF_INLINE void scopeprof_close_counted(scopeprof_thread *t, uint64_t allocs, uint64_t bytes,
                                              uint64_t live, uint64_t peak) {
  uint64_t p = t->peak_bytes;
  if (t->allocs != allocs)
    scopeprof_note_memory(t->allocs - allocs, t->alloc_bytes - bytes, p - live);
  if ((int64_t)(peak - p) > 0)
    t->peak_bytes = peak;
}

/* The C form: a cleanup attribute ends the scope. The depth at entry is kept and restored at
 * exit, so scopes a longjmp skipped cannot leave the depth wrong past the next exit.
 *
 * What a recorded call keeps until it ends is a separate object in the instrumented function's
 * frame, left uninitialized, whose address only the out-of-line begin and end see. The scope
 * itself never escapes, so its mode stays in a register on the paths that record nothing (a
 * site off, a throttled call not drawn): no stores to the stack, no loads back at exit. */
typedef struct scopeprof_c_call {
  scopeprof_site *site;
  scopeprof_thread *thread;
  uint64_t start;
  uint32_t depth;
  uint32_t sampled;
  uint64_t outer; /* the thread's marks at entry */
  uint64_t allocs, alloc_bytes; /* the thread's counts at entry, when the site counts them */
  uint64_t live_bytes, peak_bytes;
  uint64_t counted; /* SCOPEPROF_FLAG_COUNTED, or 0 */
} scopeprof_c_call;

/* What a scope's entry left: nothing, a recorded call, or a marked call. */
enum { SCOPEPROF_SCOPE_IDLE = 0, SCOPEPROF_SCOPE_RECORDED = 1, SCOPEPROF_SCOPE_MARKED = 2 };

typedef struct scopeprof_c_scope {
  scopeprof_c_call *call;
  scopeprof_thread *thread; /* of a marked call, whose mark only its own thread undoes */
  uint32_t outer;           /* the thread's open mark at a marked call's entry */
  uint32_t mode;            /* SCOPEPROF_SCOPE_* */
} scopeprof_c_scope;

/* A call of a site that is not off begins (out of line, see SCOPEPROF_NOINLINE). COUNTED_DOWN:
 * a throttled call whose countdown the inline part ran out; else the site's state decides.
 * Returns SCOPEPROF_SCOPE_*. */
static SCOPEPROF_NOINLINE __attribute__((__unused__)) uint32_t
scopeprof_c_begin(scopeprof_c_call *c, scopeprof_site *site, uint32_t state, int counted_down) {
  uint32_t drawn = 0;
  if (state != SCOPEPROF_SITE_ON) {
    if (counted_down ? !scopeprof_draw_sample() : !scopeprof_wanted(site, state))
      return SCOPEPROF_SCOPE_IDLE;
    drawn = (state & ~(uint32_t)SCOPEPROF_SITE_COUNT) == SCOPEPROF_SITE_SAMPLED;
    if (state == SCOPEPROF_SITE_NEW) /* just registered: the counters the rules gave it */
      state = __atomic_load_n(&site->state, __ATOMIC_RELAXED);
  }
  c->sampled = drawn;
  c->site = site;
  c->thread = &scopeprof_tls;
  c->depth = c->thread->depth++;
  c->counted = 0;
  if (__builtin_expect((state & SCOPEPROF_SITE_COUNT) != 0, 0)) {
    c->counted = SCOPEPROF_FLAG_COUNTED;
    c->allocs = c->thread->allocs;
    c->alloc_bytes = c->thread->alloc_bytes;
    c->live_bytes = c->thread->live_bytes;
    c->peak_bytes = c->thread->peak_bytes;
    c->thread->peak_bytes = c->live_bytes;
  }
  c->outer = scopeprof_mark_recorded(site->index);
  c->start = scopeprof_now();
  return SCOPEPROF_SCOPE_RECORDED;
}
/* A recorded call ends (out of line). */
static SCOPEPROF_NOINLINE __attribute__((__unused__)) void scopeprof_c_end(scopeprof_c_call *c) {
  uint64_t end = scopeprof_now();
  if (__builtin_expect(c->thread != &scopeprof_tls, 0)) {
    scopeprof_drop_call();
    return;
  }
  scopeprof_unmark_recorded(c->outer);
  scopeprof_tls.depth = c->depth;
  if (__builtin_expect(c->counted != 0, 0))
    scopeprof_close_counted(&scopeprof_tls, c->allocs, c->alloc_bytes, c->live_bytes, c->peak_bytes);
  scopeprof_append(scopeprof_meta(c->site->index, c->depth) | (c->sampled ? SCOPEPROF_FLAG_SAMPLED : 0) |
                       c->counted,
                   c->start, end);
}
/* The inline part: a site off (throttled, or left out by the rules) costs a load and a branch;
 * a marked call, a mark; a sampled throttled call not drawn, a decrement. */
SCOPEPROF_INLINE scopeprof_c_scope scopeprof_c_enter(scopeprof_site *site, scopeprof_c_call *call) {
  scopeprof_c_scope s;
  /* Acquire: a site switched on at run time (enable, rules, ctl) was registered by another
   * thread, whose index this call reads. On x86-64 the same plain load as a relaxed one. */
  uint32_t state = __atomic_load_n(&site->state, __ATOMIC_ACQUIRE);
  s.call = call;
  s.thread = 0;
  s.outer = 0;
  s.mode = SCOPEPROF_SCOPE_IDLE;
  if (__builtin_expect(state != SCOPEPROF_SITE_OFF, 0)) {
    if (state == SCOPEPROF_SITE_MARKED) {
      s.thread = &scopeprof_tls;
      s.outer = scopeprof_mark(site->index);
      s.mode = SCOPEPROF_SCOPE_MARKED;
    } else if (state != SCOPEPROF_SITE_SAMPLED || --scopeprof_tls.sample_countdown == 0) {
      s.mode = scopeprof_c_begin(call, site, state, state == SCOPEPROF_SITE_SAMPLED);
    }
  }
  return s;
}
SCOPEPROF_INLINE void scopeprof_c_exit(scopeprof_c_scope *s) {
  if (__builtin_expect(s->mode == SCOPEPROF_SCOPE_RECORDED, 0))
    scopeprof_c_end(s->call);
  else if (s->mode == SCOPEPROF_SCOPE_MARKED && s->thread == &scopeprof_tls)
    scopeprof_unmark(s->outer);
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

/* What a recorded call keeps until it ends: a separate object in the instrumented function's
 * frame, left uninitialized, whose address only the out-of-line begin() and end() see. The
 * Scope itself never escapes, so its mode stays in a register on the paths that record
 * nothing (a site off, a throttled call not drawn). */
struct RecordedCall {
  scopeprof_site *Site;
  scopeprof_thread *Thread;
  uint64_t Outer; /* the thread's marks at entry */
  uint64_t Start;
  uint32_t Epoch;
  uint32_t Depth;
  uint64_t Flags; /* SCOPEPROF_FLAG_SAMPLED, SCOPEPROF_FLAG_COUNTED, or 0 */
  uint64_t Allocs, AllocBytes; /* the thread's counts at entry, when the site counts them */
  uint64_t Live, Peak;
};

/* A call of a site that is not off begins (out of line, see SCOPEPROF_NOINLINE). CountedDown:
 * a throttled call whose countdown the inline part ran out; else the site's state decides.
 * Returns SCOPEPROF_SCOPE_*, as scopeprof_c_begin. */
SCOPEPROF_NOINLINE inline uint32_t beginCall(RecordedCall *C, scopeprof_site *S, uint32_t State,
                                             bool CountedDown) noexcept {
  uint64_t Flags = 0;
  if (State != SCOPEPROF_SITE_ON) {
    if (CountedDown ? !scopeprof_draw_sample() : !scopeprof_wanted(S, State))
      return SCOPEPROF_SCOPE_IDLE;
    if ((State & ~uint32_t{SCOPEPROF_SITE_COUNT}) == SCOPEPROF_SITE_SAMPLED)
      Flags = SCOPEPROF_FLAG_SAMPLED;
    if (State == SCOPEPROF_SITE_NEW) // just registered: the counters the rules gave it
      State = __atomic_load_n(&S->state, __ATOMIC_RELAXED);
  }
  if (State & SCOPEPROF_SITE_COUNT)
    Flags |= SCOPEPROF_FLAG_COUNTED;
  scopeprof_thread *Thread = &scopeprof_tls;
  C->Flags = Flags;
  C->Site = S;
  C->Thread = Thread;
  // An atomic load is never merged with its neighbour: gcc read the epoch and the depth as
  // one 8-byte load, which cannot take its value from the last call's 4-byte store of the
  // depth still in the store buffer (a stall of ~18 ns a call in bench-runtime).
  C->Epoch = __atomic_load_n(&Thread->throw_epoch, __ATOMIC_RELAXED);
  C->Depth = Thread->depth++;
  if (__builtin_expect((Flags & SCOPEPROF_FLAG_COUNTED) != 0, 0)) {
    C->Allocs = Thread->allocs;
    C->AllocBytes = Thread->alloc_bytes;
    C->Live = Thread->live_bytes;
    C->Peak = Thread->peak_bytes;
    Thread->peak_bytes = C->Live;
  }
  C->Outer = scopeprof_mark_recorded(S->index);
  C->Start = scopeprof_now();
  return SCOPEPROF_SCOPE_RECORDED;
}

/* A recorded call ends (out of line). */
SCOPEPROF_NOINLINE inline void endCall(RecordedCall *C) noexcept {
  uint64_t End = scopeprof_now();
  scopeprof_thread *Thread = C->Thread;
  if (__builtin_expect(Thread != &scopeprof_tls, 0)) {
    scopeprof_drop_call();
    return;
  }
  scopeprof_unmark_recorded(C->Outer);
  Thread->depth = C->Depth;
  if (__builtin_expect((C->Flags & SCOPEPROF_FLAG_COUNTED) != 0, 0))
    scopeprof_close_counted(Thread, C->Allocs, C->AllocBytes, C->Live, C->Peak);
  if (__builtin_expect(C->Epoch != Thread->throw_epoch, 0))
    scopeprof_exit_unwound(C->Site, C->Start, End, C->Depth, C->Flags);
  else
    scopeprof_append(scopeprof_meta(C->Site->index, C->Depth) | C->Flags, C->Start, End);
}

/* The RAII scope SCOPEPROF_FN declares. A site off (throttled, or left out by the rules) costs
 * a load and a branch at entry and a test of a register at exit; a marked call, a mark; a
 * sampled throttled call not drawn, a decrement. A throw in this thread while the scope is
 * open bumps throw_epoch; only then does the destructor take the slow path to find out whether
 * it is being unwound. The depth at entry is kept and restored at exit (a longjmp over scopes
 * cannot leave it wrong past the next exit), and so is the thread: a scope that ends on another
 * thread (a coroutine resumed elsewhere) is counted, never written with a wrong depth. */
class Scope {
public:
  SCOPEPROF_ALWAYS_INLINE Scope(scopeprof_site *S, RecordedCall *C) noexcept
      : Call(C), Thread(nullptr), Outer(0), Mode(SCOPEPROF_SCOPE_IDLE) {
    // Acquire, as in scopeprof_c_enter: the index was written by the registering thread.
    uint32_t State = __atomic_load_n(&S->state, __ATOMIC_ACQUIRE);
    if (__builtin_expect(State != SCOPEPROF_SITE_OFF, 0)) {
      if (State == SCOPEPROF_SITE_MARKED) {
        Thread = &scopeprof_tls;
        Outer = scopeprof_mark(S->index);
        Mode = SCOPEPROF_SCOPE_MARKED;
      } else if (State != SCOPEPROF_SITE_SAMPLED || --scopeprof_tls.sample_countdown == 0) {
        Mode = beginCall(C, S, State, State == SCOPEPROF_SITE_SAMPLED);
      }
    }
  }
  SCOPEPROF_ALWAYS_INLINE ~Scope() {
    if (__builtin_expect(Mode == SCOPEPROF_SCOPE_RECORDED, 0))
      endCall(Call);
    else if (Mode == SCOPEPROF_SCOPE_MARKED && Thread == &scopeprof_tls)
      scopeprof_unmark(Outer);
  }
  Scope(const Scope &) = delete;
  Scope &operator=(const Scope &) = delete;

private:
  RecordedCall *Call;
  scopeprof_thread *Thread; /* of a marked call, whose mark only its own thread undoes */
  uint32_t Outer;           /* the thread's open mark at a marked call's entry */
  uint32_t Mode;
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
  ::scopeprof::detail::RecordedCall scopeprof_call_;                                           \
  ::scopeprof::detail::Scope scopeprof_scope_(&scopeprof_site_, &scopeprof_call_)

/* SCOPEPROF_SCOPE("name"): any block, until the end of the enclosing scope. */
#define SCOPEPROF_SCOPE(NAME)                                                                  \
  static scopeprof_site SCOPEPROF_CAT(scopeprof_site_, __LINE__) = {                           \
      SCOPEPROF_SITE_NEW, 0, ::scopeprof::detail::hash(NAME, ::scopeprof::detail::hash(__FILE__)), \
      NAME, __FILE__, __LINE__, 0, nullptr};                                                   \
  ::scopeprof::detail::RecordedCall SCOPEPROF_CAT(scopeprof_call_, __LINE__);                  \
  ::scopeprof::detail::Scope SCOPEPROF_CAT(scopeprof_scope_, __LINE__)(                        \
      &SCOPEPROF_CAT(scopeprof_site_, __LINE__), &SCOPEPROF_CAT(scopeprof_call_, __LINE__))

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
  scopeprof_c_call scopeprof_call_;                                                            \
  __attribute__((cleanup(scopeprof_c_exit))) scopeprof_c_scope scopeprof_scope_ =              \
      scopeprof_c_enter(&scopeprof_site_, &scopeprof_call_)

#endif /* SCOPEPROF_CXX11_API */

#endif /* SCOPEPROF_SCOPE_H */
