// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Child processes for tests that run the card-server binary as operators do.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace card::testing {

// Starts `args[0]` with `args` and this process's environment.
pid_t Spawn(const std::vector<std::string>& args);
// The same, with the child's stderr on `stderr_fd` (a file or a pipe's end).
pid_t Spawn(const std::vector<std::string>& args, int stderr_fd);

// Exit code, or -1 if the process did not exit within `timeout` (it is then
// killed).
int WaitExit(pid_t pid, absl::Duration timeout);

}  // namespace card::testing
