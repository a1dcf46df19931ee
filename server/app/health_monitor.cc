#include "server/app/health_monitor.h"

#include <utility>

#include "server/common/log.h"

namespace card::app {
namespace {
constexpr char kCardServiceName[] = "devcard.card.v1.CardService";
}  // namespace

HealthMonitor::HealthMonitor(grpc::HealthCheckServiceInterface* health,
                             std::function<absl::Status()> probe, absl::Duration interval)
    : health_(health), probe_(std::move(probe)) {
  ProbeAndPublish();  // Before the task exists: the two never overlap.
  task_ = std::make_unique<PeriodicTask>(interval, [this] { ProbeAndPublish(); });
}

void HealthMonitor::ProbeAndPublish() {
  bool serving = probe_().ok();
  health_->SetServingStatus(serving);  // The overall ("") status.
  health_->SetServingStatus(kCardServiceName, serving);
  if (serving != serving_) {
    log::Info(serving ? "database answers: health SERVING"
                      : "database not answering: health NOT_SERVING");
  }
  serving_ = serving;
}

}  // namespace card::app
