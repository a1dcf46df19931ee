// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/common/log.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace card::log {
namespace {

std::atomic<Format> format{Format::kText};

// Appends `text` as a JSON string. Bytes that are not valid UTF-8 (a message
// may quote a caller's bytes) become U+FFFD, so every line parses.
void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c < 0x20 || c == 0x7f) {
      out->append(absl::StrFormat("\\u%04x", c));
    } else if (c >= 0x80) {
      // Length of the UTF-8 sequence this byte starts, 0 if it starts none.
      size_t length = (c & 0xe0) == 0xc0   ? 2
                      : (c & 0xf0) == 0xe0 ? 3
                      : (c & 0xf8) == 0xf0 ? 4
                                           : 0;
      bool valid =
          length > 0 && i + length <= text.size() && c != 0xc0 && c != 0xc1 && c <= 0xf4;
      for (size_t k = 1; valid && k < length; ++k) {
        valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
      }
      if (valid) {
        out->append(text.data() + i, length);
        i += length;
        continue;
      }
      out->append("\\ufffd");
    } else {
      out->push_back(static_cast<char>(c));
    }
    ++i;
  }
  out->push_back('"');
}

// A text value: bare when it is one plain word, else quoted and C-escaped.
void AppendTextValue(absl::string_view value, std::string* out) {
  bool plain = !value.empty();
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    plain = plain && u > 0x20 && u < 0x7f && c != '"' && c != '=' && c != '\\';
  }
  if (plain) {
    out->append(value.data(), value.size());
  } else {
    absl::StrAppend(out, "\"", absl::CHexEscape(value), "\"");
  }
}

const char* LevelName(char level) {
  return level == 'E' ? "error" : level == 'W' ? "warning" : "info";
}

// How long one line may wait for room on stderr (a pipe whose reader is slow
// or stuck) before it is dropped. Once a line was dropped for want of room,
// later lines do not wait at all until one gets through again: a stuck reader
// costs the loggers one wait, not one per line.
constexpr int kWriteWaitMs = 100;

std::atomic<int64_t> dropped_lines{0};

// Writes `line` to fd 2 without ever blocking for longer than kWriteWaitMs.
// stderr is never switched to O_NONBLOCK (its open file description may be
// shared with the parent or a supervisor): a socket (journald) gets
// MSG_DONTWAIT sends, anything else waits in poll() and then writes at most
// PIPE_BUF bytes, which Linux never blocks on once a pipe polls writable.
// Returns false if the line was dropped, whole or in part.
class StderrWriter {
 public:
  StderrWriter() {
    struct stat st;
    socket_ = fstat(STDERR_FILENO, &st) == 0 && S_ISSOCK(st.st_mode);
  }

  bool WriteLine(absl::string_view line) {
    // A line cut short by an earlier drop is ended first, so the next one
    // starts on its own line.
    std::string ended;
    if (torn_) {
      ended = absl::StrCat("\n", line);
      line = ended;
    }
    int wait_ms = stalled_ ? 0 : kWriteWaitMs;
    size_t written = 0;
    while (written < line.size()) {
      size_t chunk = std::min<size_t>(line.size() - written, PIPE_BUF);
      ssize_t n = socket_         ? send(STDERR_FILENO, line.data() + written, chunk,
                                         MSG_DONTWAIT | MSG_NOSIGNAL)
                  : Room(wait_ms) ? write(STDERR_FILENO, line.data() + written, chunk)
                                  : -1;
      if (n > 0) {
        written += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && socket_ &&
          Room(wait_ms)) {
        continue;
      }
      // EPIPE (the reader went away: SIGPIPE is ignored), no room in time,
      // or any other error: the rest of the line is lost.
      stalled_ = true;
      torn_ = written > 0;
      return false;
    }
    stalled_ = false;
    torn_ = false;
    return true;
  }

 private:
  // Whether fd 2 has room within `wait_ms`; errno EAGAIN when it has not.
  static bool Room(int wait_ms) {
    pollfd fd{STDERR_FILENO, POLLOUT, 0};
    int ready;
    do {
      ready = poll(&fd, 1, wait_ms);
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) errno = EAGAIN;
    if (ready > 0 && (fd.revents & (POLLERR | POLLNVAL)) != 0) {
      errno = EPIPE;
      return false;
    }
    return ready > 0;
  }

  bool socket_ = false;
  bool stalled_ = false;
  bool torn_ = false;
};

// One line at a time, so lines never interleave; the writer's state too.
ABSL_CONST_INIT absl::Mutex write_mu(absl::kConstInit);

StderrWriter& Writer() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu) {
  static StderrWriter* writer = new StderrWriter();
  return *writer;
}

void Write(char level, absl::string_view message, std::initializer_list<Field> fields) {
  std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::string line =
      FormatLine(format.load(std::memory_order_relaxed), time, level, message, fields);
  line.push_back('\n');
  absl::MutexLock lock(&write_mu);
  if (!Writer().WriteLine(line)) dropped_lines.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

Field::Field(absl::string_view key, absl::string_view value) : key_(key), text_(value) {}
Field::Field(absl::string_view key, int64_t value)
    : key_(key), text_(absl::StrCat(value)), is_number_(true) {}
Field::Field(absl::string_view key, double value)
    : key_(key), text_(absl::StrFormat("%.3f", value)), is_number_(true) {}

void SetFormat(Format new_format) { format.store(new_format); }

int64_t DroppedLines() { return dropped_lines.load(std::memory_order_relaxed); }

std::string FormatLine(Format format, absl::string_view time, char level,
                       absl::string_view message, std::initializer_list<Field> fields) {
  std::string line;
  if (format == Format::kJson) {
    absl::StrAppend(&line, "{\"time\":\"", time, "\",\"level\":\"", LevelName(level),
                    "\",\"message\":");
    AppendJsonString(message, &line);
    for (const Field& field : fields) {
      line.push_back(',');
      AppendJsonString(field.key(), &line);
      line.push_back(':');
      if (field.is_number()) {
        line.append(field.text());
      } else {
        AppendJsonString(field.text(), &line);
      }
    }
    line.push_back('}');
    return line;
  }
  absl::StrAppend(&line, time, " ", std::string(1, level), " ", message);
  for (const Field& field : fields) {
    absl::StrAppend(&line, " ", field.key(), "=");
    AppendTextValue(field.text(), &line);
  }
  return line;
}

void Info(absl::string_view message, std::initializer_list<Field> fields) {
  Write('I', message, fields);
}
void Warning(absl::string_view message, std::initializer_list<Field> fields) {
  Write('W', message, fields);
}
void Error(absl::string_view message, std::initializer_list<Field> fields) {
  Write('E', message, fields);
}

}  // namespace card::log
