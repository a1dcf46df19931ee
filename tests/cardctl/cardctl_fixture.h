// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Runs the real cardctl binary as a subprocess against the fixture's
// card-server (and its fresh database), capturing stdout, stderr and the exit
// code.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/server_fixture.h"

namespace card::testing {

struct CardctlRun {
  int exit_code = -1;  // -1: killed (timeout) or did not exit normally.
  std::string out;
  std::string err;
};

// Runs `args` (args[0] is the binary) with the test's environment; kills it
// after `timeout`.
CardctlRun RunProcess(const std::vector<std::string>& args,
                      absl::Duration timeout = absl::Seconds(60));

// CARDCTL_BINARY with `args`, no --target added.
CardctlRun RunCardctl(const std::vector<std::string>& args);

// Lines of `text`, without the newlines.
std::vector<std::string> Lines(const std::string& text);

// Parses cardctl's JSON output back into a message; fails the test if it is not
// exactly one line of proto JSON.
template <typename Message>
Message ParseJson(const std::string& out) {
  Message message;
  EXPECT_EQ(Lines(out).size(), 1u) << out;
  auto status = google::protobuf::util::JsonStringToMessage(out, &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << out;
  return message;
}

class CardctlTest : public CardServerTest {
 protected:
  // cardctl --target=<the fixture's server> args...
  CardctlRun Cardctl(std::vector<std::string> args) const;

  // Creates through cardctl --output=json and returns the card (asserting success).
  v1::Card CreateCard(const std::string& user_id, const std::string& title,
                      std::vector<std::string> extra = {});
  v1::PlatformLink CreateLink(const std::string& user_id, const std::string& username);

  int CardRows(const std::string& user_id);
};

}  // namespace card::testing
