// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Which finished calls the access log writes: every error, and exactly the
// configured share of OK calls.
#include "server/observability/grpc_call_observer.h"

#include "gtest/gtest.h"

namespace card::observability {
namespace {

int LoggedOf(GrpcCallObserver& observer, grpc::StatusCode code, int calls) {
  int logged = 0;
  for (int i = 0; i < calls; ++i) logged += observer.ShouldLog(code) ? 1 : 0;
  return logged;
}

TEST(AccessLogSamplingTest, LogsTheConfiguredShareOfOkCallsAndEveryError) {
  GrpcCallObserver observer(nullptr, AccessLogOptions{true, 0.01});
  EXPECT_EQ(LoggedOf(observer, grpc::StatusCode::OK, 1000), 10);
  EXPECT_EQ(LoggedOf(observer, grpc::StatusCode::NOT_FOUND, 1000), 1000);
  EXPECT_EQ(LoggedOf(observer, grpc::StatusCode::UNAVAILABLE, 7), 7);
}

TEST(AccessLogSamplingTest, RateOneLogsEveryOkCallAndZeroNone) {
  GrpcCallObserver all(nullptr, AccessLogOptions{true, 1.0});
  EXPECT_EQ(LoggedOf(all, grpc::StatusCode::OK, 500), 500);
  GrpcCallObserver none(nullptr, AccessLogOptions{true, 0.0});
  EXPECT_EQ(LoggedOf(none, grpc::StatusCode::OK, 500), 0);
  EXPECT_EQ(LoggedOf(none, grpc::StatusCode::INTERNAL, 3), 3);
}

TEST(AccessLogSamplingTest, NothingIsLoggedWithoutAccessLog) {
  GrpcCallObserver off(nullptr, AccessLogOptions{false, 1.0});
  EXPECT_EQ(LoggedOf(off, grpc::StatusCode::OK, 10), 0);
  EXPECT_EQ(LoggedOf(off, grpc::StatusCode::INTERNAL, 10), 0);
}

}  // namespace
}  // namespace card::observability
