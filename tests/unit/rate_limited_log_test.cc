// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The denial log's rate limit (server/common/rate_limited_log.h): a burst of
// events writes a bounded number of lines, and the count of the rest is not lost.
#include "server/common/rate_limited_log.h"

#include "gtest/gtest.h"

namespace card {
namespace {

TEST(RateLimitedLog, WritesUpToTheLimitPerWindowThenCounts) {
  RateLimitedLog log("test events", 3, absl::Seconds(1));
  absl::Time start = absl::FromUnixSeconds(1000);
  int written = 0;
  for (int i = 0; i < 100; ++i) written += log.Warning("event", start) ? 1 : 0;
  EXPECT_EQ(written, 3);
  // A new window writes again (that line carries the count of the 97 left out).
  EXPECT_TRUE(log.Warning("event", start + absl::Seconds(1)));
  EXPECT_TRUE(log.Warning("event", start + absl::Seconds(1)));
}

TEST(RateLimitedLog, WindowIsCountedFromItsFirstLine) {
  RateLimitedLog log("test events", 1, absl::Seconds(1));
  absl::Time start = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(log.Warning("event", start));
  EXPECT_FALSE(log.Warning("event", start + absl::Milliseconds(999)));
  EXPECT_TRUE(log.Warning("event", start + absl::Milliseconds(1000)));
}

}  // namespace
}  // namespace card
