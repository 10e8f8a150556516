#pragma once
template <typename T> struct Pool {
  T Items[8];
  int Size = 0;
  void put(const T &Value) { Items[Size++] = Value; }
};
template <typename T> struct Holder {
  T Value;
  Holder() {}
  template <typename U> void set(const U &From) { Value = From; }
};
