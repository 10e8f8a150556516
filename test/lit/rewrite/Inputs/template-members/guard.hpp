// A class template's special members, instantiated differently by each unit.
namespace ns {
template <int max_depth = 10> struct Guard {
  Guard() { depth = max_depth; }
  Guard(const Guard &o) { depth = o.depth; }
  explicit Guard(int d) { depth = d; }
  ~Guard() { depth = 0; }
  operator bool() const { return depth > 0; }
  template <typename T> operator T *() const { return nullptr; }
  int depth;
};
} // namespace ns
