// Pieces of the recorder shared between its source files; not part of the public API.
#pragma once

#include "scopeprof/scope.h"

#include <cstddef>
#include <cstdint>

namespace scopeprof::runtime {

/// Appends an extension unit of \p Type whose payload is \p Size bytes, to this thread's buffer.
void appendExtension(uint8_t Type, const void *Payload, uint32_t Size);

/// Notes, in this thread's record stream, that the thread is now called \p Name.
void recordThreadName(const char *Name);

/// Records an instrumented scope left while an exception is in flight: its type and message
/// go out once per exception, before the first broken call it unwinds.
void recordUnwound(scopeprof_site *Site, uint64_t Start, uint64_t End, uint32_t Depth,
                   uint64_t Flags);

/// pthread_create of a program's thread: the start routine to run in its place and its argument,
/// so that the thread tracks its context switches from its first instruction (docs/runtime.md,
/// "CPU time"); null when there is nothing to track (the thread then starts as asked).
void *trackedThreadStart(void *(*Fn)(void *), void *Arg);
void *runTrackedThread(void *Start);
/// A start trackedThreadStart made for a thread that could not be created.
void forgetThreadStart(void *Start);

} // namespace scopeprof::runtime
