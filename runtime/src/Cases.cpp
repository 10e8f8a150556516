// Profile cases: the case open in the process, written as one extension unit when it ends. The
// loader gives each call that starts inside a case's interval to that case (docs/cases.md).
#include "Recorder.h"

#include <algorithm>
#include <cstring>
#include <string>

using namespace scopeprof::runtime;

namespace {

struct OpenCase {
  std::string Name;
  uint32_t Repetition = 0, Flags = 0;
  uint64_t StartTicks = 0;
  bool Open = false;
};

// Not under the recorder's locks: ending a case appends to the thread's buffer, which may hand
// the buffer to the writer and wait for it under R.M. Never held while calling the recorder.
pthread_mutex_t CaseM = PTHREAD_MUTEX_INITIALIZER;
OpenCase *Current = nullptr; ///< allocated once, never freed: a case may end in a static dtor

/// Takes the open case out, ended now; false when none was open.
bool takeOpenCase(OpenCase &Out, uint32_t EndFlags) {
  Lock L(CaseM);
  if (!Current || !Current->Open)
    return false;
  Out = *Current;
  Out.Flags |= EndFlags;
  Current->Open = false;
  return true;
}

void writeCase(const OpenCase &C, uint64_t EndTicks) {
  namespace fmt = scopeprof::format;
  size_t NameSize = std::min<size_t>(C.Name.size(), fmt::MaxCaseName);
  char Payload[24 + fmt::MaxCaseName];
  std::memcpy(Payload, &C.StartTicks, 8);
  std::memcpy(Payload + 8, &EndTicks, 8);
  std::memcpy(Payload + 16, &C.Repetition, 4);
  std::memcpy(Payload + 20, &C.Flags, 4);
  std::memcpy(Payload + 24, C.Name.data(), NameSize);
  appendExtension(fmt::ExtCase, Payload, static_cast<uint32_t>(24 + NameSize));
}

} // namespace

extern "C" {

void scopeprof_case_begin(const char *Name, uint32_t Repetition, uint32_t Flags) {
  Recorder &R = recorder();
  if (R.RunDir.empty())
    return;
  uint64_t Now = scopeprof_now();
  OpenCase Previous;
  if (takeOpenCase(Previous, 0))
    writeCase(Previous, Now);
  Lock L(CaseM);
  if (!Current)
    Current = new OpenCase;
  Current->Name = Name ? Name : "";
  Current->Repetition = Repetition;
  Current->Flags = Flags & SCOPEPROF_CASE_WARMUP;
  Current->Open = true;
  // Last: the case's interval holds none of the bookkeeping above.
  Current->StartTicks = scopeprof_now();
}

void scopeprof_case_end(uint32_t Flags) {
  // First: the case's interval holds none of the bookkeeping below.
  uint64_t End = scopeprof_now();
  OpenCase C;
  if (takeOpenCase(C, Flags & SCOPEPROF_CASE_FAILED))
    writeCase(C, End);
}

} // extern "C"
