// Fuzzes rules parsing, normalization round-trips and matching against names and paths.
#include "scopeprof/rules/Rules.h"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace scopeprof::rules;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  std::string Input(reinterpret_cast<const char *>(Data), Size);
  // The first line is the subject to match; the rest is the rules file.
  size_t Newline = Input.find('\n');
  std::string SubjectText = Input.substr(0, Newline);
  std::string Text = Newline == std::string::npos ? "" : Input.substr(Newline + 1);

  RulesError Err;
  auto Set = RuleSet::parse(Text, "fuzz.rules", &Err);
  if (!Set) {
    if (Err.Message.empty() || Err.Line == 0 || Err.Column == 0)
      abort();
    (void)Err.format();
    return 0;
  }
  auto Again = RuleSet::parse(Set->normalized(), "normalized", &Err);
  if (!Again || Again->normalized() != Set->normalized())
    abort();
  std::string Name(qualifiedNameOf(SubjectText));
  Set->decide({SubjectText, Name, SubjectText, KindMethod | KindOperator});
  return 0;
}
