// Runs a function every `interval` on a thread of its own until stopped.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"

namespace card {

class PeriodicTask {
 public:
  // The first run is one interval from now.
  PeriodicTask(absl::Duration interval, std::function<void()> run);
  ~PeriodicTask();

  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Waits for a run in progress; no run starts afterwards. Idempotent.
  void Stop();

 private:
  const absl::Duration interval_;
  const std::function<void()> run_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace card
