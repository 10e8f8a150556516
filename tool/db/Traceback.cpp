// Bounded tracebacks: both ends kept, the middle counted.
#include "Traceback.h"

#include <fmt/core.h>

namespace scopeprof::db {
namespace {

/// Cuts \p S to at most \p Max bytes on a UTF-8 character boundary, marking the cut.
std::string clip(const std::string &S, size_t Max) {
  if (S.size() <= Max)
    return S;
  size_t End = Max - 3;
  while (End > 0 && (static_cast<unsigned char>(S[End]) & 0xC0) == 0x80)
    --End;
  return S.substr(0, End) + "...";
}

} // namespace

void Traceback::addFrame(const std::string &Frame) {
  ++Frames;
  std::string Line = clip(Frame, MaxFrameBytes);
  if (Inner.size() < KeptAtEachEnd) {
    Inner.push_back(std::move(Line));
    return;
  }
  Outer.push_back(std::move(Line));
  if (Outer.size() > KeptAtEachEnd)
    Outer.pop_front();
}

std::string Traceback::text() const {
  std::string Out;
  for (const auto &F : Inner)
    Out += (Out.empty() ? "" : "\n") + F;
  if (uint64_t Left = Frames - Inner.size() - Outer.size())
    Out += fmt::format("\n... {} more frame{} ...", Left, Left == 1 ? "" : "s");
  for (const auto &F : Outer)
    Out += "\n" + F;
  return Out;
}

void Traceback::store(Statement &Upsert, int64_t Id) const {
  Upsert.bind(1, Id)
      .bind(2, Run)
      .bind(3, Thread)
      .bind(4, Pid)
      .bind(5, Tid)
      .bind(6, Type)
      .bind(7, Message)
      .bind(8, text())
      .bind(9, Frames)
      .run();
}

} // namespace scopeprof::db
