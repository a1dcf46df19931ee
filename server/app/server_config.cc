// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/app/server_config.h"

#include "absl/strings/str_cat.h"
#include "server/security/listen_address.h"

namespace card::app {
namespace {

absl::Status AtLeastOne(const char* field, int64_t value) {
  if (value >= 1) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, " must be >= 1"));
}

}  // namespace

absl::Status ServerConfig::Validate() const {
  for (absl::Status status : {
           AtLeastOne("database.repository.pool_size", database.repository.pool_size),
           AtLeastOne("scheduler.workers", scheduler.workers),
           AtLeastOne("scheduler.max_queued_per_user",
                      static_cast<int64_t>(scheduler.max_queued_per_user)),
           AtLeastOne("scheduler.max_batch", static_cast<int64_t>(scheduler.max_batch)),
           AtLeastOne("transport.max_concurrent_streams",
                      transport.max_concurrent_streams),
           AtLeastOne("transport.max_metadata_bytes", transport.max_metadata_bytes),
       }) {
    if (!status.ok()) return status;
  }
  if (scheduler.max_active_turns < 0) {
    return absl::InvalidArgumentError(
        "scheduler.max_active_turns must be >= 0 (0: one per connection)");
  }
  if (scheduler.active_turn_hold <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("scheduler.active_turn_hold must be > 0");
  }
  if (scheduler.workers > database.repository.pool_size) {
    return absl::InvalidArgumentError(
        "scheduler.workers must be <= database.repository.pool_size (a worker must "
        "never wait for a connection)");
  }
  if (service.request_id_retention < service::kMinRequestIdRetention) {
    return absl::InvalidArgumentError(
        absl::StrCat("service.request_id_retention must be at least ",
                     absl::FormatDuration(service::kMinRequestIdRetention),
                     " (the API's promise to retrying callers)"));
  }
  if (transport.listener_check_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "transport.listener_check_interval must be >= 0 (0 turns the check off)");
  }
  if (transport.listener_check_interval > absl::ZeroDuration() &&
      transport.listener_check_give_up < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "transport.listener_check_give_up must be at least 1s");
  }
  double rate = observability.access_log.ok_sample_rate;
  if (!(rate >= 0 && rate <= 1)) {
    return absl::InvalidArgumentError(
        "observability.access_log.ok_sample_rate must be in [0, 1]");
  }
  if (!observability.metrics_listen.empty() &&
      !observability.allow_insecure_metrics_listen &&
      !security::IsLoopbackListenAddress(observability.metrics_listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing to serve metrics over plain HTTP on ", observability.metrics_listen,
        " (observability.metrics_listen): anyone who can reach that address could "
        "read them. Listen on a loopback address, or set "
        "observability.allow_insecure_metrics_listen to serve them there anyway"));
  }
  return absl::OkStatus();
}

}  // namespace card::app
