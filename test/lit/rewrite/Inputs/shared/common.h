#pragma once
inline int shared(int v) { return v + 1; }
struct Shared {
  int get() const { return 2; }
};
