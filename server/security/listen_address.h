// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Where plaintext may be served: only where no other host can connect, unless
// the operator says otherwise (security.allow_insecure_listen, the
// --allow_insecure_listen flag). A plaintext port reachable from the network
// lets anyone call every method.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace card::security {

// True for addresses only this host can reach: 127.0.0.0/8, [::1],
// localhost, and Unix sockets. "0.0.0.0", "[::]", ":50051" and host names are not.
bool IsLoopbackListenAddress(absl::string_view listen);

// OK for a loopback `listen`, or when plaintext beyond loopback is allowed
// explicitly; otherwise INVALID_ARGUMENT saying what to do instead.
absl::Status CheckPlaintextListen(absl::string_view listen, bool allow_insecure_listen);

}  // namespace card::security
