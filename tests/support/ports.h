// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Loopback ports for tests that start processes of their own.
#pragma once

namespace card::testing {

// A loopback TCP port that was free a moment ago (and has no listener now).
int UnusedLoopbackPort();

}  // namespace card::testing
