// One body, two declarators: C++20 units see operator<=>, C++17 units operator<.
struct Version {
  int Major;
#if __cplusplus > 201703L
  bool operator<=>(const Version &O) const
#else
  bool operator<(const Version &O) const
#endif
  {
    return Major < O.Major;
  }
};
