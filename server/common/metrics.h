// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// What the layers below report for the server's metrics, without knowing how
// they are exported. storage, the scheduler and the service call a
// MetricsSink they were given; server/observability/server_metrics.h
// implements it with prometheus-cpp. Unit tests and tools pass nothing and get
// MetricsSink::None(), which drops everything: no layer needs a metrics library to be
// built or tested.
//
// Only events go through here (something happened, with a size or a duration).
// Levels that can be read at any time (queue length, pool use, health) are
// read by server/app/card_server.cc when Prometheus scrapes, from accessors on the
// objects that own them.
//
// Every method may be called from any thread and must not block.
#pragma once

#include <cstddef>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace card {

class MetricsSink {
 public:
  virtual ~MetricsSink() = default;

  // How long a mutation waited for its user's advisory lock in PostgreSQL
  // (measured inside the transaction: storage/definitions/10_card_lock_user.sql).
  virtual void ObserveLockWait(absl::Duration wait) = 0;
  // How many creates one group-commit transaction carried (1 without batching).
  virtual void ObserveBatchSize(int requests) = 0;
  // A request joined its user's queue, which then held `depth` waiting requests.
  virtual void ObserveUserQueueDepth(size_t depth) = 0;
  // A statement failed with this SQLSTATE ("" when libpq gave none).
  virtual void CountDatabaseError(absl::string_view sqlstate) = 0;
  // The unique index behind the per-user lock fired (23505): a locking bug.
  virtual void CountBackstopViolation() = 0;
  // The request-id sweeper deleted `rows` expired idempotency keys.
  virtual void CountExpiredRequestIds(int rows) = 0;

  // A sink that drops everything. Never null, never destroyed.
  static MetricsSink* None();
};

}  // namespace card
