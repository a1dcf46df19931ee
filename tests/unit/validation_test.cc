// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/service/validation.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/common/status.h"

namespace card::service {
namespace {

std::string FieldOf(const absl::Status& status) {
  return ErrorField(status).value_or("");
}

TEST(ValidateUserId, AcceptsPrintableAsciiUpTo128Bytes) {
  EXPECT_TRUE(ValidateUserId("u").ok());
  EXPECT_TRUE(ValidateUserId("user-42@example.com").ok());
  EXPECT_TRUE(ValidateUserId(std::string(128, 'x')).ok());
}

TEST(ValidateUserId, RejectsEmptyLongAndNonPrintable) {
  for (const std::string& bad : {std::string(), std::string(129, 'x'), std::string("a b"),
                                 std::string("tab\t"), std::string("caf\xc3\xa9")}) {
    absl::Status status = ValidateUserId(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(FieldOf(status), "user_id");
  }
}

TEST(IsUuid, AcceptsCanonicalFormOnly) {
  EXPECT_TRUE(IsUuid("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_TRUE(IsUuid("123E4567-E89B-12D3-A456-426614174000"));
  EXPECT_FALSE(IsUuid("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-12d3-a456-42661417400g"));
  EXPECT_FALSE(IsUuid("{123e4567-e89b-12d3-a456-426614174000}"));
  EXPECT_FALSE(IsUuid(""));
}

TEST(Utf8Length, CountsCodePointsAndRejectsMalformed) {
  EXPECT_EQ(Utf8Length(""), 0);
  EXPECT_EQ(Utf8Length("abc"), 3);
  EXPECT_EQ(Utf8Length("caf\xc3\xa9"), 4);       // é
  EXPECT_EQ(Utf8Length("\xe2\x82\xac"), 1);      // €
  EXPECT_EQ(Utf8Length("\xf0\x9f\x98\x80"), 1);  // emoji
  EXPECT_EQ(Utf8Length("\xc3"), -1);             // truncated
  EXPECT_EQ(Utf8Length("\xc0\xaf"), -1);         // overlong
  EXPECT_EQ(Utf8Length("\xed\xa0\x80"), -1);     // surrogate
  EXPECT_EQ(Utf8Length("\xff"), -1);
}

TEST(ValidateText, BoundsAreInCharactersNotBytes) {
  std::string hundred_euros;
  for (int i = 0; i < 100; ++i) hundred_euros += "\xe2\x82\xac";
  EXPECT_TRUE(ValidateText(hundred_euros, "card.title", 1, 100).ok());
  absl::Status too_long = ValidateText(hundred_euros + "x", "card.title", 1, 100);
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(too_long), "card.title");
  EXPECT_EQ(FieldOf(ValidateText("", "card.title", 1, 100)), "card.title");
  EXPECT_TRUE(ValidateText("", "card.description", 0, 100).ok());
  EXPECT_FALSE(ValidateText("line\nbreak", "card.title", 1, 100).ok());
  EXPECT_FALSE(ValidateText("\xc3", "card.title", 1, 100).ok());
}

TEST(ValidateLinkIds, NamesTheOffendingElement) {
  const std::string a = "123e4567-e89b-12d3-a456-426614174000";
  const std::string b = "223e4567-e89b-12d3-a456-426614174000";
  EXPECT_TRUE(ValidateLinkIds({}).ok());
  EXPECT_TRUE(ValidateLinkIds({a, b}).ok());
  EXPECT_EQ(FieldOf(ValidateLinkIds({a, "nope"})), "link_ids[1]");
  EXPECT_EQ(FieldOf(ValidateLinkIds({a, b, a})), "link_ids[2]");
  EXPECT_EQ(FieldOf(ValidateLinkIds({a, "123E4567-E89B-12D3-A456-426614174000"})),
            "link_ids[1]");
  std::vector<std::string> too_many;
  for (int i = 0; i < 51; ++i) {
    char id[37];
    snprintf(id, sizeof id, "00000000-0000-0000-0000-%012d", i);
    too_many.push_back(id);
  }
  EXPECT_EQ(FieldOf(ValidateLinkIds(too_many)), "link_ids");
  too_many.pop_back();
  EXPECT_TRUE(ValidateLinkIds(too_many).ok());
}

TEST(ValidateRequestId, OptionalPrintableAsciiUpTo128Bytes) {
  EXPECT_TRUE(ValidateRequestId("").ok());
  EXPECT_TRUE(ValidateRequestId("8b0c-retry-1").ok());
  EXPECT_EQ(FieldOf(ValidateRequestId(std::string(129, 'r'))), "request_id");
  EXPECT_EQ(FieldOf(ValidateRequestId("has space")), "request_id");
}

TEST(SlugBase, LowercasesAndHyphenates) {
  EXPECT_EQ(SlugBase("Jane Doe"), "jane-doe");
  EXPECT_EQ(SlugBase("  --Hello,   World!!  "), "hello-world");
  EXPECT_EQ(SlugBase("Caf\xc3\xa9 42"), "caf-42");
  EXPECT_EQ(SlugBase("!!!"), "card");
  EXPECT_EQ(SlugBase("\xe2\x82\xac"), "card");
  EXPECT_EQ(SlugBase(std::string(60, 'a')).size(), 40u);
}

TEST(ValidateText, RejectsWhatWouldBreakOrDisguiseOneLine) {
  const std::vector<std::string> bad = {
      "line\nbreak",
      "c1 \xc2\x85 next line",        // U+0085, a C1 control
      "line \xe2\x80\xa8 separator",  // U+2028
      "para \xe2\x80\xa9 separator",  // U+2029
      "bidi \xe2\x80\xae override",   // U+202E
      "bidi \xe2\x81\xa6 isolate",    // U+2066
  };
  for (const std::string& text : bad) {
    absl::Status status = ValidateText(text, "card.title", 1, 100);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(FieldOf(status), "card.title");
  }
  EXPECT_TRUE(
      ValidateText("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "t", 1, 100).ok());
}

TEST(ValidatePlatformLink, RejectsUserCredentialsInTheUrl) {
  absl::Status status =
      ValidatePlatformLink("site", "me", "https://user:pass@example.com/x", 0, "link.");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(status), "link.url");
  EXPECT_TRUE(ValidatePlatformLink("site", "me", "https://example.com/a@b", 0, "").ok());
  EXPECT_TRUE(
      ValidatePlatformLink("site", "me", "https://example.com?q=a@b", 0, "").ok());
}

TEST(ValidateSlug, AcceptsWhatCardCreateMakesOnly) {
  EXPECT_TRUE(ValidateSlug("my-card-0123456789abcdef0123").ok());
  EXPECT_TRUE(ValidateSlug("card-1a2b3c4d").ok());  // slugs made before 80-bit suffixes
  for (const std::string& bad : {std::string(), std::string(65, 'a'),
                                 std::string("My-Card"), std::string("card\0x", 6),
                                 std::string("card/../x"), std::string("caf\xc3\xa9")}) {
    absl::Status status = ValidateSlug(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(FieldOf(status), "slug");
  }
}

}  // namespace
}  // namespace card::service
