// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/service/page_token.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "server/common/status.h"

namespace card::service {
namespace {

const model::CardCursor kCursor{absl::FromUnixMicros(1700000000123456),
                                "123e4567-e89b-12d3-a456-426614174000"};

TEST(PageToken, RoundTrips) {
  std::string token = EncodePageToken("cards", "alice", kCursor);
  absl::StatusOr<model::CardCursor> decoded = DecodePageToken("cards", "alice", token);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->create_time, kCursor.create_time);
  EXPECT_EQ(decoded->id, kCursor.id);
}

TEST(PageToken, RejectsAnotherUsersOrKindsToken) {
  std::string token = EncodePageToken("cards", "alice", kCursor);
  EXPECT_EQ(DecodePageToken("cards", "bob", token).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodePageToken("links", "alice", token).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The user tag of a genuine token for `user_id`, taken from one.
std::string UserTagForTest(const std::string& user_id) {
  std::string plain;
  absl::WebSafeBase64Unescape(EncodePageToken("cards", user_id, kCursor), &plain);
  std::vector<std::string> parts = absl::StrSplit(plain, ':');
  return parts[1];
}

TEST(PageToken, RejectsGarbageNamingTheField) {
  for (const std::string& bad :
       {std::string("!!!"), absl::WebSafeBase64Escape("cards:1:2"),
        absl::WebSafeBase64Escape("cards:x:1:123e4567-e89b-12d3-a456-426614174000"),
        absl::WebSafeBase64Escape("cards:1:1:not-a-uuid"),
        // Forged timestamps that would overflow PostgreSQL's arithmetic.
        absl::WebSafeBase64Escape(absl::StrCat("cards:", UserTagForTest("alice"),
                                               ":300000000000000000:", kCursor.id)),
        absl::WebSafeBase64Escape(absl::StrCat("cards:", UserTagForTest("alice"),
                                               ":-300000000000000000:", kCursor.id))}) {
    absl::Status status = DecodePageToken("cards", "alice", bad).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(ErrorField(status).value_or(""), "page_token");
  }
}

}  // namespace
}  // namespace card::service
