// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The two log formats: JSON lines parse whatever bytes a message carries, text
// lines keep one event on one line.
#include <string>

#include "gtest/gtest.h"
#include "server/common/log.h"

namespace card::log {
namespace {

constexpr char kTime[] = "2026-11-29T11:53:19.123Z";

TEST(LogFormatTest, JsonLineHasTimeLevelMessageAndTypedFields) {
  EXPECT_EQ(
      FormatLine(Format::kJson, kTime, 'I', "rpc",
                 {{"method", "/devcard.card.v1.CardService/CreateCard"},
                  {"code", "OK"},
                  {"duration_ms", 1.5},
                  {"attempts", 2}}),
      "{\"time\":\"2026-11-29T11:53:19.123Z\",\"level\":\"info\",\"message\":\"rpc\","
      "\"method\":\"/devcard.card.v1.CardService/CreateCard\",\"code\":\"OK\","
      "\"duration_ms\":1.500,\"attempts\":2}");
  EXPECT_EQ(
      FormatLine(Format::kJson, kTime, 'E', "x", {}),
      "{\"time\":\"2026-11-29T11:53:19.123Z\",\"level\":\"error\",\"message\":\"x\"}");
}

TEST(LogFormatTest, JsonEscapesQuotesControlsAndInvalidUtf8) {
  std::string message = "say \"hi\"\\ \n\t\x01 caf\xc3\xa9 \xe2\x82\xac bad\xff end \xc3";
  EXPECT_EQ(
      FormatLine(Format::kJson, kTime, 'W', message, {}),
      "{\"time\":\"2026-11-29T11:53:19.123Z\",\"level\":\"warning\",\"message\":"
      "\"say \\\"hi\\\"\\\\ \\n\\u0009\\u0001 caf\xc3\xa9 \xe2\x82\xac bad\\ufffd end "
      "\\ufffd\"}");
}

TEST(LogFormatTest, TextLineQuotesValuesThatAreNotOneWord) {
  EXPECT_EQ(
      FormatLine(
          Format::kText, kTime, 'I', "rpc",
          {{"code", "NOT_FOUND"}, {"caller", "a b"}, {"empty", ""}, {"newline", "x\ny"}}),
      "2026-11-29T11:53:19.123Z I rpc code=NOT_FOUND caller=\"a b\" empty=\"\" "
      "newline=\"x\\ny\"");
  // No fields: exactly the line the server always wrote.
  EXPECT_EQ(FormatLine(Format::kText, kTime, 'W', "database not reachable yet", {}),
            "2026-11-29T11:53:19.123Z W database not reachable yet");
}

}  // namespace
}  // namespace card::log
