// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// card-stress's command-line flags (the TLS ones come from
// client/client_flags.h). Compiled into the card-stress binary only: the
// libraries take a Config and never read a flag.
#pragma once

#include "absl/status/statusor.h"
#include "stress/config.h"

namespace card::stress {

// Reads the command-line flags into a Config, checking every value.
absl::StatusOr<Config> ConfigFromFlags();

}  // namespace card::stress
