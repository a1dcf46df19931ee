// Minimal line logger: one line per event, to stderr, safe from any thread.
// The server logs start-up, shutdown and errors; never one line per request,
// and never a connection string (it may carry a password).
#pragma once

#include <atomic>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace card::log {

void Info(absl::string_view message);
void Warning(absl::string_view message);
void Error(absl::string_view message);

// For events a caller can cause at will (malformed requests, denied calls,
// library complaints): at most `burst` lines per `window`; the first line after
// a window with suppressed lines says how many were dropped.
class RateLimited {
 public:
  RateLimited(int burst, absl::Duration window) : burst_(burst), window_(window) {}
  void Warning(absl::string_view message);

 private:
  const int burst_;
  const absl::Duration window_;
  std::atomic<int64_t> window_start_ms_{0};
  std::atomic<int> written_{0};
  std::atomic<int64_t> suppressed_{0};
};

}  // namespace card::log
