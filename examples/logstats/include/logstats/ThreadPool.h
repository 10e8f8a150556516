// A fixed-size thread pool (header-only): submit() returns a future for the task's result.
#pragma once

#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

namespace logstats {

class ThreadPool {
public:
  explicit ThreadPool(unsigned Threads) {
    for (unsigned I = 0; I < Threads; ++I)
      Workers.emplace_back([this, I] { work(I); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      Stopping = true;
    }
    Ready.notify_all();
    for (auto &W : Workers)
      W.join();
  }

  template <typename F> auto submit(F Task) -> std::future<decltype(Task())> {
    auto Packaged = std::make_shared<std::packaged_task<decltype(Task())()>>(std::move(Task));
    auto Result = Packaged->get_future();
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      Queue.push([Packaged] { (*Packaged)(); });
    }
    Ready.notify_one();
    return Result;
  }

private:
  void work(unsigned Index) {
    std::string Name = "pool-" + std::to_string(Index);
    pthread_setname_np(pthread_self(), Name.c_str());
    for (;;) {
      std::function<void()> Task;
      {
        std::unique_lock<std::mutex> Lock(Mutex);
        Ready.wait(Lock, [this] { return Stopping || !Queue.empty(); });
        if (Queue.empty())
          return;
        Task = std::move(Queue.front());
        Queue.pop();
      }
      Task();
    }
  }

  std::mutex Mutex;
  std::condition_variable Ready;
  std::queue<std::function<void()>> Queue;
  std::vector<std::thread> Workers;
  bool Stopping = false;
};

} // namespace logstats
