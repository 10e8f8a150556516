// Case selection by glob: the same pattern engine as the rules and the case runner's --case.
#include "Cases.h"

#include "scopeprof/rules/Glob.h"

#include <fmt/core.h>

#include <algorithm>

namespace scopeprof::db {

CaseSelection selectCases(Database &Db, int64_t Run, const std::string &Pattern) {
  rules::GlobError Err;
  auto Glob = rules::Glob::compile(Pattern, rules::Separator::Scope, &Err);
  if (!Glob)
    throw InputError(fmt::format("bad --case pattern '{}': column {}: {}", Pattern, Err.Column + 1,
                                 Err.Message));
  CaseSelection Out;
  std::vector<std::string> All;
  auto S = Db.prepare("SELECT id, name FROM cases WHERE run_id=?1 AND NOT warmup "
                      "ORDER BY start_ns, id");
  S.bind(1, Run);
  while (S.step()) {
    std::string Name = S.text(1);
    if (std::find(All.begin(), All.end(), Name) == All.end())
      All.push_back(Name);
    if (!Glob->matches(Name))
      continue;
    Out.Ids.push_back(S.integer(0));
    if (std::find(Out.Names.begin(), Out.Names.end(), Name) == Out.Names.end())
      Out.Names.push_back(Name);
  }
  if (All.empty())
    throw InputError(fmt::format("run {} has no profile cases (it did not run under the case "
                                 "runner or the GoogleTest listener: docs/cases.md)",
                                 Run));
  if (Out.Ids.empty()) {
    std::string Known;
    for (size_t I = 0; I < All.size() && I < 10; ++I)
      Known += (I ? ", " : "") + All[I];
    if (All.size() > 10)
      Known += fmt::format(" and {} more", All.size() - 10);
    throw InputError(fmt::format("no case of run {} matches '{}' (its cases: {})", Run, Pattern,
                                 Known));
  }
  Out.Repetitions = static_cast<int64_t>(Out.Ids.size());
  return Out;
}

} // namespace scopeprof::db
