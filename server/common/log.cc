#include "common/log.h"

#include <cstdio>
#include <mutex>
#include <string>

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

}  // namespace card::log
