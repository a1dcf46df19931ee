#include "server/app/health_monitor.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
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
  absl::Status status = probe_();
  bool serving = status.ok();
  health_->SetServingStatus(serving);  // The overall ("") status.
  health_->SetServingStatus(kCardServiceName, serving);
  // Logged when it changes, so once per episode however often it probes.
  std::string reason(status.message());
  if (serving && !serving_) {
    log::Info("database answers: health SERVING");
  } else if (!serving && (serving_ || reason != last_reason_)) {
    log::Warning(absl::StrCat("health NOT_SERVING: ", reason));
  }
  last_reason_ = std::move(reason);
  serving_ = serving;
}

}  // namespace card::app
