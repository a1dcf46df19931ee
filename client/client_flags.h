// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The TLS flags every client binary takes (--tls, --tls_ca_file,
// --tls_server_name, --tls_cert_file, --tls_key_file), defined once for
// cardctl and card-stress. Link the `card_client_flags` library into a binary
// only: flags belong to the executable, not to the libraries below it.
#pragma once

#include "client/card_client.h"

namespace card::client {

// Copies the TLS flags into `options` (the rest of it is left as it was).
void ApplyTlsFlags(ClientOptions& options);

}  // namespace card::client
