// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// card-stress's parts without a server (label "unit"): the compact ids and
// request numbers the history is keyed by, and the schedules' values.
#include "gtest/gtest.h"
#include "stress/history.h"
#include "stress/schedule.h"

namespace card::stress {
namespace {

TEST(CompactId, ParsesAUuidIntoSixteenBytesAndBack) {
  static_assert(sizeof(CompactId) == 16);
  std::optional<CompactId> id = CompactId::Parse("0F1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->high, 0x0f1e2d3c4b5a6978ULL);
  EXPECT_EQ(id->low, 0x8796a5b4c3d2e1f0ULL);
  EXPECT_EQ(id->ToString(), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
}

TEST(CompactId, RefusesWhatIsNotAUuid) {
  EXPECT_FALSE(CompactId::Parse(""));
  EXPECT_FALSE(CompactId::Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f"));   // short
  EXPECT_FALSE(CompactId::Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg"));  // not hex
  EXPECT_FALSE(CompactId::Parse("0f1e2d3c4b5a-6978-8796-a5b4c3d2e1f0-"));  // dashes
}

TEST(History, RequestNumbersLeadBackToThisRunsCreatesOnly) {
  History history;
  history.user_prefix = "stress-ab";
  history.creates.resize(12);
  EXPECT_EQ(history.RequestId(11), "stress-ab-r11");
  EXPECT_EQ(history.RequestNumber("stress-ab-r11"), 11u);
  EXPECT_FALSE(history.RequestNumber("stress-ab-r12"));   // never attempted
  EXPECT_FALSE(history.RequestNumber("stress-ab-r011"));  // not a form it makes
  EXPECT_FALSE(history.RequestNumber("stress-ac-r1"));    // another run's
  EXPECT_FALSE(history.RequestNumber("stress-ab-r"));
  EXPECT_EQ(history.UserId(7), "stress-ab-7");
  history.hot_user = true;
  EXPECT_EQ(history.UserId(0), "stress-ab-hot");
}

TEST(Schedule, StepRisesEveryStepUpToTheEnd) {
  Schedule step{Schedule::Kind::kStep, 100, 50, 200, absl::Seconds(2)};
  EXPECT_EQ(step.At(absl::ZeroDuration()), 100);
  EXPECT_EQ(step.At(absl::Milliseconds(1999)), 100);
  EXPECT_EQ(step.At(absl::Seconds(2)), 150);
  EXPECT_EQ(step.At(absl::Seconds(4)), 200);
  EXPECT_EQ(step.At(absl::Seconds(60)), 200);
}

TEST(Schedule, LineRisesContinuouslyAndHoldsAfterMaxDuration) {
  Schedule line{Schedule::Kind::kLine, 10, 5, 0, absl::Seconds(1), absl::Seconds(4)};
  EXPECT_DOUBLE_EQ(line.At(absl::Milliseconds(1500)), 17.5);
  EXPECT_DOUBLE_EQ(line.At(absl::Seconds(4)), 30);
  EXPECT_DOUBLE_EQ(line.At(absl::Seconds(10)), 30);
}

TEST(Schedule, FallingStepStopsAtTheEndAndConstIgnoresTime) {
  Schedule down{Schedule::Kind::kStep, 100, -30, 20, absl::Seconds(1)};
  EXPECT_EQ(down.At(absl::Seconds(2)), 40);
  EXPECT_EQ(down.At(absl::Seconds(3)), 20);
  Schedule constant{Schedule::Kind::kConst, 42};
  EXPECT_EQ(constant.At(absl::Hours(1)), 42);
}

}  // namespace
}  // namespace card::stress
