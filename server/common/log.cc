#include "server/common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

void Write(char level, absl::string_view message, std::initializer_list<Field> fields) {
  static std::mutex mu;
  std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::string line =
      FormatLine(format.load(std::memory_order_relaxed), time, level, message, fields);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

Field::Field(absl::string_view key, absl::string_view value) : key_(key), text_(value) {}
Field::Field(absl::string_view key, int64_t value)
    : key_(key), text_(absl::StrCat(value)), is_number_(true) {}
Field::Field(absl::string_view key, double value)
    : key_(key), text_(absl::StrFormat("%.3f", value)), is_number_(true) {}

void SetFormat(Format new_format) { format.store(new_format); }

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
