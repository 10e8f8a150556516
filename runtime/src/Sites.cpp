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

/// log2 of the uniform (X + 1) / 2^32 in (0, 1], without libm: inside leveldb, std::log and
/// the division after it cost ~60 ns a draw (a call into libm, cache misses), a nanosecond per
/// throttled call. The exponent comes from the double's bits, the mantissa's log from a
/// least-squares polynomial in (m - 1); its error, under 3e-6, moves a countdown by 1e-4.
double log2Uniform(uint32_t X) {
  double Value = static_cast<double>(uint64_t{X} + 1);
  uint64_t Bits;
  std::memcpy(&Bits, &Value, sizeof Bits);
  int Exponent = static_cast<int>(Bits >> 52) - 1023;
  Bits = (Bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1023} << 52);
  double Mantissa;
  std::memcpy(&Mantissa, &Bits, sizeof Mantissa);
  double T = Mantissa - 1;
  // Horner, written out: as a loop over an array gcc copied the coefficients to the stack on
  // every draw and chained the loop's loads (4.5% of tinyxml2's run in this function, ~23 ns a
  // draw, one throttled call in 64).
  double Log2Mantissa =
      T * (1.442534779300737 +
           T * (-0.71803358669954 +
                T * (0.4571581046140681 +
                     T * (-0.27734161363331084 +
                          T * (0.12147291940545302 + T * -0.025792335337773035)))));
  return Exponent + Log2Mantissa - 32;
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
    if (!namedByRule(R, S))
      return SCOPEPROF_SITE_SAMPLED | countBit(R, S);
    R.Throttled[S->index] = 0;
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

bool throttleSite(Recorder &R, uint32_t Index) {
  Lock G(R.SitesM);
  if (Index >= R.SitesByIndex.size() || namedByRule(R, R.SitesByIndex[Index]))
    return false;
  if (R.Throttled.size() <= Index)
    R.Throttled.resize(Index + 1);
  R.Throttled[Index] = 1;
  scopeprof_site *S = R.SitesByIndex[Index];
  uint32_t Count = __atomic_load_n(&S->state, __ATOMIC_RELAXED) & SCOPEPROF_SITE_COUNT;
  __atomic_store_n(&S->state, SCOPEPROF_SITE_SAMPLED | Count, __ATOMIC_RELEASE);
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
  // The length of a countdown: the number of independent 1-in-64 draws up to and including the
  // first success, geometric, from a uniform in (0, 1]. Any nonzero state works for xorshift32;
  // threads start apart.
  static_assert(fmt::SamplePeriod == 64, "the loader counts a drawn call as 64");
  auto NextCountdown = [&T] {
    uint32_t X = T.sample_random;
    if (X == 0)
      X = static_cast<uint32_t>(currentTid()) * 2654435761u | 1;
    X ^= X << 13;
    X ^= X >> 17;
    X ^= X << 5;
    T.sample_random = X;
    constexpr double InverseLog2Miss = -44.01393630854736; // 1 / log2(1 - 1/64)
    return 1 + static_cast<uint32_t>(log2Uniform(X) * InverseLog2Miss);
  };
  if (T.sample_countdown == 0) { // never set: this call is the first of a countdown
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
