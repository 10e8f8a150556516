// Included with NS defined as ns by one unit, as ns2 by the other.
namespace NS {
struct Node {
  int v;
};
typedef char char_t;
inline int f(const Node &n, const char_t *s) { return n.v + (s ? 1 : 0); }
} // namespace NS
