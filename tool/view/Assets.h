// The viewer's web assets (tool/view/web), embedded into scopeprof at build time.
#pragma once

#include <string_view>
#include <vector>

namespace scopeprof::view {

struct Asset {
  const char *Name; ///< file name, e.g. "main.js"
  std::string_view Data;
};

const std::vector<Asset> &assets();

/// The asset called \p Name; empty when there is none.
inline std::string_view asset(std::string_view Name) {
  for (const Asset &A : assets())
    if (Name == A.Name)
      return A.Data;
  return {};
}

} // namespace scopeprof::view
