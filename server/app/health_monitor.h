// Keeps the gRPC health status in step with the database: SERVING while a
// trivial query succeeds, NOT_SERVING while it fails. It probes on a connection
// of its own, so a busy pool cannot make a healthy server look unhealthy.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/health_check_service_interface.h"

namespace card::app {

class HealthMonitor {
 public:
  // `probe` returns OK while the database answers.
  HealthMonitor(grpc::HealthCheckServiceInterface* health,
                std::function<absl::Status()> probe, absl::Duration interval);
  ~HealthMonitor();

  void Stop();  // Idempotent.

 private:
  void Run();
  void Publish(bool serving);

  grpc::HealthCheckServiceInterface* health_;
  std::function<absl::Status()> probe_;
  const absl::Duration interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool serving_ = false;
  std::thread thread_;
};

}  // namespace card::app
