// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Minimal line logger: one line per event, to stderr, safe from any thread.
// The server logs start-up, shutdown and errors, and with --access_log one line
// per call (server/observability/grpc_call_observer.h); never a connection string (it may
// carry a password), never a request's content.
//
// Two formats, chosen once at start-up (--log_format):
//   text: 2026-11-29T11:53:19.123Z I message key=value key="two words"
//   json: {"time":"2026-11-29T11:53:19.123Z","level":"info","message":"...","key":...}
// JSON is one object per line, for log collectors; text is for people.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace card::log {

enum class Format { kText, kJson };

// Before the first line is written (main does it after parsing flags).
void SetFormat(Format format);

// One structured field of a line: a string, or a number written as a JSON number.
class Field {
 public:
  Field(absl::string_view key, absl::string_view value);
  Field(absl::string_view key, const char* value)
      : Field(key, absl::string_view(value)) {}
  Field(absl::string_view key, const std::string& value)
      : Field(key, absl::string_view(value)) {}
  Field(absl::string_view key, int64_t value);
  Field(absl::string_view key, int value) : Field(key, static_cast<int64_t>(value)) {}
  Field(absl::string_view key, double value);

  absl::string_view key() const { return key_; }
  const std::string& text() const { return text_; }
  bool is_number() const { return is_number_; }

 private:
  absl::string_view key_;
  std::string text_;
  bool is_number_ = false;
};

// A line that cannot be written (stderr is a pipe whose reader went away, or
// stays full for 100 ms) is dropped, never waited on for longer: logging
// never ends the process and never stalls it. DroppedLines() counts them
// since start-up (card_server_log_lines_dropped_total).
int64_t DroppedLines();

void Info(absl::string_view message, std::initializer_list<Field> fields = {});
void Warning(absl::string_view message, std::initializer_list<Field> fields = {});
void Error(absl::string_view message, std::initializer_list<Field> fields = {});

// The line Write would print, without the newline (for tests).
std::string FormatLine(Format format, absl::string_view time, char level,
                       absl::string_view message, std::initializer_list<Field> fields);

}  // namespace card::log
