// A fixed set of worker threads draining one bounded queue.
//
// The gRPC layer hands each RPC's blocking database work to this executor, so a
// request in flight costs a queue entry, not a thread; the number of threads
// equals the database pool size, so a worker never waits for a connection.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace card {

class Executor {
 public:
  Executor(int threads, size_t max_queued);
  ~Executor();  // Runs what is queued, then joins.

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // False when the queue is full or the executor is stopping; the job is not run.
  bool Submit(std::function<void()> job);

  // Stops accepting jobs, runs the queued ones, joins the threads. Idempotent.
  void Stop();

 private:
  void Work();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace card
