// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/common/metrics.h"

namespace card {
namespace {

class NoMetrics final : public MetricsSink {
 public:
  void ObserveLockWait(absl::Duration) override {}
  void ObserveBatchSize(int) override {}
  void ObserveUserQueueDepth(size_t) override {}
  void CountDatabaseError(absl::string_view) override {}
  void CountBackstopViolation() override {}
  void CountExpiredRequestIds(int) override {}
};

}  // namespace

MetricsSink* MetricsSink::None() {
  static NoMetrics* const kNone = new NoMetrics();
  return kNone;
}

}  // namespace card
