// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Keeps the gRPC health status in step with the database: SERVING while the
// probe succeeds, NOT_SERVING while it fails (the database unreachable,
// read-only, or missing a function the server calls), logging why. It probes on a
// connection of its own, so a busy pool cannot make a healthy server look unhealthy.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/exec/periodic_task.h"

namespace card::app {

class HealthMonitor {
 public:
  // `probe` returns OK while the database answers. Probes once before returning.
  HealthMonitor(grpc::HealthCheckServiceInterface* health,
                std::function<absl::Status()> probe, absl::Duration interval);

  void Stop() { task_->Stop(); }  // No status change after this returns.

  // What the last probe published (for metrics; any thread).
  bool serving() const { return serving_.load(); }

 private:
  void ProbeAndPublish();

  grpc::HealthCheckServiceInterface* health_;
  std::function<absl::Status()> probe_;
  std::atomic<bool> serving_{false};
  // Of the last NOT_SERVING line logged; probes never overlap.
  std::string last_reason_;
  absl::Time reason_logged_at_ = absl::InfinitePast();
  std::unique_ptr<PeriodicTask> task_;
};

}  // namespace card::app
