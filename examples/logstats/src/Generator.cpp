// A deterministic synthetic access log (xorshift64*), with a few malformed lines.
#include "logstats/Generator.h"

namespace logstats {

uint64_t Generator::next() {
  State ^= State >> 12;
  State ^= State << 25;
  State ^= State >> 27;
  return State * 2685821657736338717ull;
}

std::string Generator::line() {
  static const char *const Methods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
  static const char *const Routes[] = {"/users/{}", "/users/{}/orders/{}", "/products/{}",
                                       "/search", "/cart/{}/items", "/static/app.js"};
  if (next() % 500 == 0)
    return "garbage line without the expected fields";
  std::string Path = Routes[next() % 6], Out;
  for (size_t I = 0; I < Path.size(); ++I) {
    if (Path.compare(I, 2, "{}") == 0) {
      Out += std::to_string(next() % 100000);
      ++I;
    } else {
      Out += Path[I];
    }
  }
  static const int Statuses[] = {200, 200, 200, 200, 304, 404, 500};
  return "10.0." + std::to_string(next() % 8) + "." + std::to_string(next() % 250) + " " +
         Methods[next() % 6] + " " + Out + " " + std::to_string(Statuses[next() % 7]) + " " +
         std::to_string(next() % 50000) + " " + std::to_string(200 + next() % 40000);
}

std::vector<std::string> Generator::lines(size_t Lines) {
  std::vector<std::string> Out;
  Out.reserve(Lines);
  for (size_t I = 0; I < Lines; ++I)
    Out.push_back(line());
  return Out;
}

} // namespace logstats
