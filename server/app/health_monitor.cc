// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/app/health_monitor.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/log.h"

namespace card::app {
namespace {
constexpr char kCardServiceName[] = "devcard.card.v1.CardService";
constexpr absl::Duration kReasonLogInterval = absl::Seconds(10);
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
  // Logged when it changes, so once per episode however often it probes; a
  // reason that changes while NOT_SERVING (two kinds of timeout taking turns)
  // at most once per kReasonLogInterval.
  std::string reason(status.message());
  const absl::Time now = absl::Now();
  if (serving && !serving_) {
    log::Info("database answers: health SERVING");
  } else if (!serving && (serving_ || (reason != last_reason_ &&
                                       now - reason_logged_at_ >= kReasonLogInterval))) {
    log::Warning(absl::StrCat("health NOT_SERVING: ", reason));
    last_reason_ = std::move(reason);
    reason_logged_at_ = now;
  }
  serving_ = serving;
}

}  // namespace card::app
