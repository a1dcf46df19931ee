#include "common/log.h"

#include <cstdio>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace card::log {
namespace {

void Write(char level, absl::string_view message) {
  static std::mutex mu;
  std::string line =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line.push_back(' ');
  line.push_back(level);
  line.push_back(' ');
  line.append(message.data(), message.size());
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

void Info(absl::string_view message) { Write('I', message); }
void Warning(absl::string_view message) { Write('W', message); }
void Error(absl::string_view message) { Write('E', message); }

void RateLimited::Warning(absl::string_view message) {
  int64_t now_ms = absl::ToUnixMillis(absl::Now());
  int64_t start_ms = window_start_ms_.load();
  if (now_ms - start_ms >= absl::ToInt64Milliseconds(window_) &&
      window_start_ms_.compare_exchange_strong(start_ms, now_ms)) {
    written_ = 0;
    int64_t suppressed = suppressed_.exchange(0);
    if (suppressed > 0) {
      Write('W', absl::StrCat("(", suppressed, " similar line(s) suppressed in the last ",
                              absl::FormatDuration(window_), ")"));
    }
  }
  if (written_.fetch_add(1) < burst_) {
    Write('W', message);
  } else {
    suppressed_.fetch_add(1);
  }
}

}  // namespace card::log
