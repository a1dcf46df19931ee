// Minimal line logger: one line per event, to stderr, safe from any thread.
// The server logs start-up, shutdown and errors; never one line per request,
// and never a connection string (it may carry a password).
#pragma once

#include "absl/strings/string_view.h"

namespace card::log {

void Info(absl::string_view message);
void Warning(absl::string_view message);
void Error(absl::string_view message);

}  // namespace card::log
