#pragma once
#include <cstddef>
#include <string>
int defined_in_a();
template <typename T> class Box {
public:
  const T &ref() const { return Value; }
  std::size_t size() const { return Count; }
  T copy() const { return Value; }
  bool same(const T &Other) const { return Value == Other; }
private:
  T Value{};
  std::size_t Count = 0;
};
inline int fromA() { return defined_in_a() + 1; }
