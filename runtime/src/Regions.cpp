// Regions: manual intervals that can be paused; written as extension units of the thread's stream.
#include "Recorder.h"

#include <cstring>

using namespace scopeprof::runtime;

extern "C" {

void scopeprof_region_start(scopeprof_region *G) {
  if (G->running)
    return;
  BusyGuard Busy;
  if (!Busy)
    return;
  Recorder &R = recorder();
  scopeprof_site *S;
  {
    Lock L(R.SitesM);
    uint64_t Id = 0xcbf29ce484222325ull;
    for (const char *P : {G->file, G->name})
      for (; P && *P; ++P)
        Id = (Id ^ static_cast<unsigned char>(*P)) * 0x100000001b3ull;
    scopeprof_site *&Slot = R.RegionSites[Id];
    if (!Slot) {
      Slot = new scopeprof_site{SCOPEPROF_SITE_NEW, 0, Id, G->name, G->file, G->line, 0, nullptr};
      registerLocked(R, Slot);
    }
    S = Slot;
  }
  // A region's allocations are not counted (its pauses would have to be): the counting bit
  // leaves it on.
  if ((S->state & ~uint32_t{SCOPEPROF_SITE_COUNT}) != SCOPEPROF_SITE_ON)
    return;
  G->running = 1;
  G->depth = scopeprof_tls.depth;
  G->paused_since = 0;
  G->paused_ticks = 0;
  G->index = S->index;
  G->start = scopeprof_now();
}

void scopeprof_region_pause(scopeprof_region *G) {
  if (G->running && !G->paused_since)
    G->paused_since = scopeprof_now();
}

void scopeprof_region_resume(scopeprof_region *G) {
  if (G->running && G->paused_since) {
    G->paused_ticks += scopeprof_now() - G->paused_since;
    G->paused_since = 0;
  }
}

void scopeprof_region_stop(scopeprof_region *G) {
  if (!G->running)
    return;
  uint64_t End = scopeprof_now();
  if (G->paused_since)
    G->paused_ticks += End - G->paused_since;
  G->running = 0;
  char Payload[32];
  std::memcpy(Payload, &G->index, 4);
  std::memcpy(Payload + 4, &G->depth, 4);
  std::memcpy(Payload + 8, &G->start, 8);
  std::memcpy(Payload + 16, &End, 8);
  std::memcpy(Payload + 24, &G->paused_ticks, 8);
  appendExtension(scopeprof::format::ExtRegion, Payload, sizeof(Payload));
}

} // extern "C"
