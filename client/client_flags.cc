// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "client/client_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(bool, tls, false, "Use TLS (default: plaintext).");
ABSL_FLAG(
    std::string, tls_ca_file, "",
    "With --tls: PEM file of the CA certificates to trust (default: the system's).");
ABSL_FLAG(std::string, tls_server_name, "",
          "With --tls: the name to check the server's certificate against, if not the "
          "host in --target.");
ABSL_FLAG(
    std::string, tls_cert_file, "",
    "With --tls: PEM certificate chain presenting this client to a server that "
    "requires one (mutual TLS); its URI SAN is the identity the server authorizes.");
ABSL_FLAG(std::string, tls_key_file, "", "With --tls_cert_file: its PEM private key.");

namespace card::client {

void ApplyTlsFlags(ClientOptions& options) {
  options.tls = absl::GetFlag(FLAGS_tls);
  options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
}

}  // namespace card::client
