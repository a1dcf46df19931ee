// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Reading a small configuration file (certificate, key, policy) whole, with a
// bound on its size: a path pointed at something huge must not exhaust memory.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace card {

// The file's contents. INVALID_ARGUMENT naming the path if it cannot be read,
// is not a regular file (a FIFO, a device, a directory: refused without
// blocking) or is larger than `max_bytes`.
absl::StatusOr<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes);

}  // namespace card
