#pragma once
template <typename T> struct Pool {
  T Items[8];
  int Size = 0;
  void put(const T &Value) { Items[Size++] = Value; }
};
