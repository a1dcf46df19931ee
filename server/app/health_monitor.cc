#include "app/health_monitor.h"

#include <string>
#include <utility>

#include "common/log.h"

namespace card::app {
namespace {
constexpr char kCardServiceName[] = "devcard.card.v1.CardService";
}  // namespace

HealthMonitor::HealthMonitor(grpc::HealthCheckServiceInterface* health,
                             std::function<absl::Status()> probe, absl::Duration interval)
    : health_(health), probe_(std::move(probe)), interval_(interval) {
  Publish(probe_().ok());
  thread_ = std::thread([this] { Run(); });
}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HealthMonitor::Publish(bool serving) {
  health_->SetServingStatus(serving);  // The overall ("") status.
  health_->SetServingStatus(kCardServiceName, serving);
  if (serving != serving_) {
    log::Info(serving ? "database answers: health SERVING"
                      : "database not answering: health NOT_SERVING");
  }
  serving_ = serving;
}

void HealthMonitor::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, absl::ToChronoNanoseconds(interval_),
                         [this] { return stopping_; })) {
    lock.unlock();
    bool serving = probe_().ok();
    lock.lock();
    if (!stopping_) Publish(serving);
  }
}

}  // namespace card::app
