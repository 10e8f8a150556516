// The subcommands of `scopeprof`; each takes its arguments after the subcommand name.
#pragma once

#include <string>
#include <vector>

namespace scopeprof::cli {

int runRules(const std::vector<std::string> &Args);
int runDump(const std::vector<std::string> &Args);
int runLoad(const std::vector<std::string> &Args);
int runQuery(const std::vector<std::string> &Args);
int runReport(const std::vector<std::string> &Args);
int runExport(const std::vector<std::string> &Args);
int runDiff(const std::vector<std::string> &Args);
int runView(const std::vector<std::string> &Args);
int runCtl(const std::vector<std::string> &Args);
int runRun(const std::vector<std::string> &Args);

} // namespace scopeprof::cli
