// The site registry: a site is registered (rules evaluated, index assigned) the first time it
// runs; enable/disable and run-time rules re-evaluate every registered site.
#include "Recorder.h"

#include <cstdio>
#include <cstring>

// The C header spells the kinds out for C code; they must stay the rules language's.
static_assert(unsigned{SCOPEPROF_KIND_FREE} == scopeprof::rules::KindFree &&
                  unsigned{SCOPEPROF_KIND_METHOD} == scopeprof::rules::KindMethod &&
                  unsigned{SCOPEPROF_KIND_CTOR} == scopeprof::rules::KindCtor &&
                  unsigned{SCOPEPROF_KIND_DTOR} == scopeprof::rules::KindDtor &&
                  unsigned{SCOPEPROF_KIND_OPERATOR} == scopeprof::rules::KindOperator &&
                  unsigned{SCOPEPROF_KIND_LAMBDA} == scopeprof::rules::KindLambda &&
                  unsigned{SCOPEPROF_KIND_STATIC} == scopeprof::rules::KindStatic &&
                  unsigned{SCOPEPROF_KIND_TEMPLATE} == scopeprof::rules::KindTemplate,
              "scope.h and rules/Rules.h disagree on kind bits");
static_assert(SCOPEPROF_FLAG_COUNTED == scopeprof::format::FlagCounted &&
                  SCOPEPROF_FLAG_SAMPLED == scopeprof::format::FlagSampled,
              "scope.h and LogFormat.h disagree on flag bits");

namespace scopeprof::runtime {

namespace {

/// ln(X) for X in [1, 2], at compile time: 2 atanh((X - 1) / (X + 1)), whose series converges
/// to double precision within 30 terms there.
constexpr double lnAtCompileTime(double X) {
  double Z = (X - 1) / (X + 1), Term = Z, Sum = 0;
  for (int N = 1; N < 60; N += 2, Term *= Z * Z)
    Sum += Term / N;
  return 2 * Sum;
}

/// 1 / log2(1 - 1/64), negated: a countdown's length per unit of -log2 of its uniform.
constexpr double CountdownPerBit = 44.01393630854736;
static_assert(fmt::SamplePeriod == 64, "the loader counts a drawn call as 64");

/// CountdownPerBit * log2(1 + I/256), in 16.16 fixed point, for I in 0 .. 256.
struct Log2Table {
  uint32_t V[257];
};
constexpr Log2Table makeLog2Table() {
  Log2Table T{};
  for (int I = 0; I <= 256; ++I)
    T.V[I] = static_cast<uint32_t>(CountdownPerBit * 65536 * lnAtCompileTime(1 + I / 256.0) /
                                       lnAtCompileTime(2) +
                                   0.5);
  return T;
}
constexpr Log2Table Log2Fraction = makeLog2Table();

/// The length of a countdown: the number of independent 1-in-64 draws up to and including the
/// first success, 1 + floor(log2(U) / log2(1 - 1/64)), geometric, for the uniform
/// U = (X + 1) / 2^32 in (0, 1]. In integers: -log2(U) is the leading zeros of X + 1 less 31,
/// less log2 of its mantissa, from a table interpolated linearly (error under 3e-6 of a unit
/// of the log, 1e-4 of a countdown). A polynomial in doubles did the same in a dependent chain
/// of ~70 cycles; inside leveldb, std::log took ~60 ns a draw.
uint32_t countdownLength(uint32_t X) {
  uint64_t V = uint64_t{X} + 1; // 1 .. 2^32
  int Zeros = __builtin_clzll(V); // 31 .. 63
  uint64_t Mantissa = V << Zeros; // its leading 1 at bit 63
  uint32_t I = static_cast<uint32_t>(Mantissa >> 55) & 0xFF;
  uint32_t Between = static_cast<uint32_t>(Mantissa >> 47) & 0xFF;
  uint32_t Low = Log2Fraction.V[I];
  uint32_t Fraction = Low + ((Log2Fraction.V[I + 1] - Low) * Between >> 8);
  uint64_t Scaled = static_cast<uint64_t>(Zeros - 31) * Log2Fraction.V[256] - Fraction;
  return 1 + static_cast<uint32_t>(Scaled >> 16);
}

/// A site a rule line includes by name (not by default) is what the user asked to see in full:
/// the auto-throttle leaves it alone, and a rule naming a throttled site switches it back on.
bool namedByRule(Recorder &R, const scopeprof_site *S) {
  if (!R.Rules)
    return false;
  std::string_view Sig = S->signature;
  rules::Decision D = R.Rules->decide({S->file, rules::qualifiedNameOf(Sig), Sig, S->kinds});
  return D.Included && D.DecidedBy;
}

/// SCOPEPROF_SITE_COUNT when the site's calls count allocations: the last `counters` line
/// naming it decides, else SCOPEPROF_COUNTERS; never where this process cannot count them.
uint32_t countBit(Recorder &R, const scopeprof_site *S) {
  if (!R.CountsMemory)
    return 0;
  bool Memory = R.Cfg.CountMemory;
  if (R.Rules) {
    std::string_view Sig = S->signature;
    if (auto C = R.Rules->counters({S->file, rules::qualifiedNameOf(Sig), Sig, S->kinds}))
      Memory = (*C & rules::CounterMemory) != 0;
  }
  return Memory ? SCOPEPROF_SITE_COUNT : 0;
}

} // namespace

void countersNamedByRules(Recorder &R) {
  if (!R.Rules)
    return;
  unsigned Named = R.Rules->countersNamed();
  // CPU time is per thread, not per call: threads that get their log from now on are tracked.
  if ((Named & rules::CounterCpu) && !R.Cfg.CountCpu)
    __atomic_store_n(&R.RulesTrackCpu, true, __ATOMIC_RELAXED);
  if (!(Named & rules::CounterMemory) || R.CountsMemory)
    return;
  if (!R.MemoryCountable) {
    if (!R.WarnedUncountable) {
      R.WarnedUncountable = true;
      std::fprintf(stderr, "scopeprof: warning: rules ask for counters memory, but this program's "
                           "malloc is not the scopeprof runtime's (the static runtime, or another "
                           "allocator or a sanitizer comes first); allocations are not counted\n");
    }
    return;
  }
  R.CountsMemory = true;
}

uint32_t siteState(Recorder &R, const scopeprof_site *S) {
  if (!R.GlobalEnabled || R.RunDir.empty())
    return SCOPEPROF_SITE_OFF;
  if (R.Rules) {
    std::string_view Sig = S->signature;
    if (!R.Rules->decide({S->file, rules::qualifiedNameOf(Sig), Sig, S->kinds}).Included)
      return SCOPEPROF_SITE_OFF;
  }
  if (S->index < R.Throttled.size() && R.Throttled[S->index]) {
    if (!namedByRule(R, S)) {
      auto Cut = static_cast<ThrottleCut>(R.Throttled[S->index]);
      return cutState(Cut) | (Cut == CutSampled ? countBit(R, S) : 0);
    }
    R.Throttled[S->index] = NotCut;
  }
  return SCOPEPROF_SITE_ON | countBit(R, S);
}

void rulesReplaced(Recorder &R) {
  countersNamedByRules(R);
  // Before any site is switched to counting: their calls count from their next entry on.
  if (R.CountsMemory)
    __atomic_store_n(&scopeprof_count_memory, 1, __ATOMIC_RELAXED);
  reevaluateSites(R);
}

void reevaluateSites(Recorder &R) {
  // Release: pairs with the scopes' acquire, for threads that never took SitesM for the site.
  for (scopeprof_site *S = R.SiteList; S; S = S->next)
    __atomic_store_n(&S->state, siteState(R, S), __ATOMIC_RELEASE);
  __atomic_add_fetch(&R.RulesGeneration, 1, __ATOMIC_RELEASE);
}

uint32_t cutState(ThrottleCut Cut) {
  switch (Cut) {
  case CutMarked:
    return SCOPEPROF_SITE_MARKED;
  case CutSampled:
    return SCOPEPROF_SITE_SAMPLED;
  default:
    return SCOPEPROF_SITE_OFF;
  }
}

bool throttleSite(Recorder &R, uint32_t Index, bool Marked) {
  Lock G(R.SitesM);
  if (Index >= R.SitesByIndex.size() || namedByRule(R, R.SitesByIndex[Index]))
    return false;
  if (R.Throttled.size() <= Index)
    R.Throttled.resize(Index + 1);
  // A mark is for the CPU samples: without them, nothing would read it.
  ThrottleCut Cut = !R.ThrottledOff ? CutSampled : Marked && R.SamplesCpu ? CutMarked : CutOff;
  R.Throttled[Index] = Cut;
  scopeprof_site *S = R.SitesByIndex[Index];
  uint32_t Count = __atomic_load_n(&S->state, __ATOMIC_RELAXED) & SCOPEPROF_SITE_COUNT;
  __atomic_store_n(&S->state, cutState(Cut) | (Cut == CutSampled ? Count : 0), __ATOMIC_RELEASE);
  samplesDecide(); // its own time comes from the CPU samples now
  return true;
}

bool siteOn(Recorder &R, uint32_t Index) {
  Lock G(R.SitesM);
  return Index < R.SitesByIndex.size() &&
         (__atomic_load_n(&R.SitesByIndex[Index]->state, __ATOMIC_RELAXED) &
          ~uint32_t{SCOPEPROF_SITE_COUNT}) == SCOPEPROF_SITE_ON;
}

void registerLocked(Recorder &R, scopeprof_site *S) {
  S->index = static_cast<uint32_t>(R.SitesByIndex.size());
  R.SitesByIndex.push_back(S);
  S->next = R.SiteList;
  R.SiteList = S;
  __atomic_store_n(&S->state, siteState(R, S), __ATOMIC_RELEASE);
}

} // namespace scopeprof::runtime

using namespace scopeprof::runtime;

extern "C" {

int scopeprof_register_site(scopeprof_site *S) {
  // Registered already: a state this call's scope.h did not know (a program built against an
  // older runtime's header), which asks here on every call, without taking a lock.
  if (uint32_t State = __atomic_load_n(&S->state, __ATOMIC_ACQUIRE); State != SCOPEPROF_SITE_NEW)
    return (State & ~uint32_t{SCOPEPROF_SITE_COUNT}) == SCOPEPROF_SITE_ON;
  BusyGuard Busy;
  if (!Busy)
    return 0; // inside the recorder (a signal handler): registered at its next call
  Recorder &R = recorder();
  if (foreignProcess())
    return 0;
  Lock G(R.SitesM);
  if (__atomic_load_n(&S->state, __ATOMIC_ACQUIRE) == SCOPEPROF_SITE_NEW)
    registerLocked(R, S);
  return (S->state & ~uint32_t{SCOPEPROF_SITE_COUNT}) == SCOPEPROF_SITE_ON;
}

int scopeprof_draw_sample(void) {
  scopeprof_thread &T = scopeprof_tls;
  // Any nonzero state works for xorshift32; threads start apart.
  auto NextCountdown = [&T] {
    uint32_t X = T.sample_random;
    if (X == 0)
      X = static_cast<uint32_t>(currentTid()) * 2654435761u | 1;
    X ^= X << 13;
    X ^= X >> 17;
    X ^= X << 5;
    T.sample_random = X;
    return countdownLength(X);
  };
  if (T.sample_random == 0) { // the thread's first throttled call: the first of a countdown
    uint32_t Left = NextCountdown();
    if (Left > 1) {
      T.sample_countdown = Left - 1;
      return 0;
    }
  }
  T.sample_countdown = NextCountdown();
  return 1;
}

void scopeprof_enable(void) {
  BusyGuard Busy;
  if (!Busy)
    return;
  Recorder &R = recorder();
  Lock G(R.SitesM);
  R.GlobalEnabled = true;
  reevaluateSites(R);
}

void scopeprof_disable(void) {
  BusyGuard Busy;
  if (!Busy)
    return;
  Recorder &R = recorder();
  Lock G(R.SitesM);
  R.GlobalEnabled = false;
  reevaluateSites(R);
}

int scopeprof_set_rules(const char *Text) {
  Recorder &R = recorder();
  scopeprof::rules::RulesError Err;
  auto Rules = scopeprof::rules::RuleSet::parse(Text ? Text : "", "<scopeprof_set_rules>", &Err);
  if (!Rules) {
    std::fprintf(stderr, "scopeprof: %s\n", Err.format().c_str());
    return -1;
  }
  BusyGuard Busy;
  if (!Busy)
    return -1;
  Lock G(R.SitesM);
  R.Rules = std::move(Rules);
  rulesReplaced(R);
  return 0;
}

} // extern "C"
