// The bar for `scopeprof load`: a bare prepared-insert loop of rows shaped like calls into the
// same schema (same pragmas, one transaction), with and without building the same indexes.
#include "Schema.h"
#include "Sqlite.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <unistd.h>

namespace {

void insertRows(scopeprof::db::Database &Db, int64_t N) {
  scopeprof::db::Transaction T(Db);
  auto Insert = Db.prepare("INSERT INTO calls VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,"
                           "?14,?15,?16)");
  int64_t Start = 1'000'000'000'000;
  for (int64_t I = 0; I < N; ++I) {
    int64_t Depth = I % 4, Duration = 40 + I % 13;
    Insert.bind(1, (int64_t(1) << 32) + I).bind(2, 1).bind(3, 4242).bind(4, 4243).bind(5, 1)
        .bind(6, 1 + I % 3).bind(7, Start + I * 80).bind(8, Start + I * 80 + Duration)
        .bind(9, Duration).bind(10, Duration / 2).bind(11, Depth);
    if (Depth)
      Insert.bind(12, (int64_t(1) << 32) + I + 1);
    Insert.bind(13, 0);
    Insert.run();
  }
  T.commit();
}

void BM_BareInsert(benchmark::State &State, bool WithIndexes) {
  std::string Path = "bench-load-" + std::to_string(getpid()) + ".db";
  for (auto _ : State) {
    auto Db = scopeprof::db::openForLoad(Path);
    insertRows(*Db, State.range(0));
    if (WithIndexes)
      scopeprof::db::createIndexes(*Db);
    Db.reset();
    State.PauseTiming();
    for (const char *Suffix : {"", "-wal", "-shm"})
      std::remove((Path + Suffix).c_str());
    State.ResumeTiming();
  }
  State.SetItemsProcessed(State.iterations() * State.range(0));
}

BENCHMARK_CAPTURE(BM_BareInsert, rows, false)->Arg(1'000'000)->Arg(10'000'000)
    ->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_BareInsert, rows_and_indexes, true)->Arg(1'000'000)->Arg(10'000'000)
    ->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
