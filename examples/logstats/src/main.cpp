// logstats [LINES] [THREADS]: generates an access log, analyses it on a thread pool, and has a
// forked worker process verify the report's checksum.
#include "logstats/Generator.h"
#include "logstats/LogParser.h"
#include "logstats/Report.h"
#include "logstats/ThreadPool.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace logstats;

namespace {

Report analyzeChunk(const std::vector<std::string> &Lines, size_t Begin, size_t End) {
  LogParser Parser;
  Report Out;
  for (size_t I = Begin; I < End; ++I) {
    try {
      Out.add(Parser.parse(Lines[I]));
    } catch (const ParseError &) {
      Out.countMalformed();
    }
  }
  return Out;
}

Report analyze(const std::vector<std::string> &Lines, unsigned Threads) {
  constexpr size_t Chunk = 2000;
  ThreadPool Pool(Threads);
  std::vector<std::future<Report>> Parts;
  for (size_t Begin = 0; Begin < Lines.size(); Begin += Chunk)
    Parts.push_back(Pool.submit([&Lines, Begin] {
      return analyzeChunk(Lines, Begin, std::min(Begin + Chunk, Lines.size()));
    }));
  Report Total;
  for (auto &Part : Parts)
    Total.merge(Part.get());
  return Total;
}

/// Computes the checksum in a child process, as a stand-in for handing work to a worker.
uint64_t verifyInWorker(const Report &R) {
  int Pipe[2];
  if (pipe(Pipe) != 0)
    return 0;
  std::fflush(stdout); // or the child would print our buffered output again
  pid_t Child = fork();
  if (Child == 0) {
    close(Pipe[0]);
    uint64_t Sum = R.checksum();
    ssize_t Written = write(Pipe[1], &Sum, sizeof(Sum));
    std::exit(Written == sizeof(Sum) ? 0 : 1);
  }
  close(Pipe[1]);
  uint64_t Sum = 0;
  ssize_t Got = read(Pipe[0], &Sum, sizeof(Sum));
  close(Pipe[0]);
  int Status = 0;
  waitpid(Child, &Status, 0);
  return Got == sizeof(Sum) && WIFEXITED(Status) && WEXITSTATUS(Status) == 0 ? Sum : 0;
}

} // namespace

int main(int Argc, char **Argv) {
  size_t Lines = Argc > 1 ? std::strtoul(Argv[1], nullptr, 10) : 20000;
  unsigned Threads = Argc > 2 ? static_cast<unsigned>(std::atoi(Argv[2])) : 2;
  Generator G(42);
  Report R = analyze(G.lines(Lines), Threads ? Threads : 1);
  std::fputs(R.render().c_str(), stdout);
  uint64_t Sum = verifyInWorker(R);
  if (Sum != R.checksum()) {
    std::fprintf(stderr, "logstats: the worker's checksum differs\n");
    return 1;
  }
  std::printf("checksum %016llx verified by a worker process\n", static_cast<unsigned long long>(Sum));
  return 0;
}
