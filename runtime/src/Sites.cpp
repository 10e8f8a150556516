// The site registry: a site is registered (rules evaluated, index assigned) the first time it
// runs; enable/disable and run-time rules re-evaluate every registered site.
#include "Recorder.h"

#include <cstdio>

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

namespace scopeprof::runtime {

namespace {

/// A site a rule line includes by name (not by default) is what the user asked to see in full:
/// the auto-throttle leaves it alone, and a rule naming a throttled site switches it back on.
bool namedByRule(Recorder &R, const scopeprof_site *S) {
  if (!R.Rules)
    return false;
  std::string_view Sig = S->signature;
  rules::Decision D = R.Rules->decide({S->file, rules::qualifiedNameOf(Sig), Sig, S->kinds});
  return D.Included && D.DecidedBy;
}

} // namespace

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
      return SCOPEPROF_SITE_SAMPLED;
    R.Throttled[S->index] = 0;
  }
  return SCOPEPROF_SITE_ON;
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
  __atomic_store_n(&R.SitesByIndex[Index]->state, SCOPEPROF_SITE_SAMPLED, __ATOMIC_RELEASE);
  return true;
}

bool siteOn(Recorder &R, uint32_t Index) {
  Lock G(R.SitesM);
  return Index < R.SitesByIndex.size() &&
         __atomic_load_n(&R.SitesByIndex[Index]->state, __ATOMIC_RELAXED) == SCOPEPROF_SITE_ON;
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
  return S->state == SCOPEPROF_SITE_ON;
}

int scopeprof_seed_sampling(void) {
  // Any nonzero state works for xorshift32; threads start apart. The hot path draws the top six
  // bits: fmt::SamplePeriod is 64.
  static_assert(fmt::SamplePeriod == 64, "scope.h samples one call in 64");
  uint32_t Seed = static_cast<uint32_t>(currentTid()) * 2654435761u | 1;
  scopeprof_tls.sample_random = Seed;
  return (Seed >> 26) == 0;
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
  reevaluateSites(R);
  return 0;
}

} // extern "C"
