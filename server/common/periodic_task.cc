#include "server/common/periodic_task.h"

#include <utility>

namespace card {

PeriodicTask::PeriodicTask(absl::Duration interval, std::function<void()> run)
    : interval_(interval), run_(std::move(run)) {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!wake_.wait_for(lock, absl::ToChronoNanoseconds(interval_),
                           [this] { return stopping_; })) {
      lock.unlock();
      run_();
      lock.lock();
    }
  });
}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace card
