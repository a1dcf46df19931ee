// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// cardctl's exit codes and how it reports a failed call (the code's name comes
// from the client library's StatusCodeName, shared with card-stress).
#pragma once

#include <ostream>

#include "grpcpp/grpcpp.h"

namespace card::cardctl {

// Exit codes, one per class of outcome (also in --help and client/README.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitOther = 1,        // any other error (INTERNAL, UNKNOWN, UNIMPLEMENTED, ...)
  kExitUsage = 2,        // bad command line; nothing was sent
  kExitInvalid = 3,      // INVALID_ARGUMENT, OUT_OF_RANGE
  kExitNotFound = 4,     // NOT_FOUND
  kExitConflict = 5,     // ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED
  kExitPermission = 6,   // PERMISSION_DENIED, UNAUTHENTICATED
  kExitUnavailable = 7,  // UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
                         // CANCELLED; health other than SERVING
};

ExitCode ExitCodeFor(grpc::StatusCode code);

// Writes "CODE_NAME: message", then one line per detail the server attached
// (google.rpc.Status in the binary error details): "  field: description" for
// each google.rpc.BadRequest field violation, the type name for other details.
void PrintError(std::ostream& out, const grpc::Status& status);

// True when `status` is how a call ends whose TLS handshake the server cut
// short because no client certificate was presented (a server with
// --tls_client_ca_file requires one): UNAVAILABLE, the connection closed by
// the peer during the handshake, with --tls (`tls`) and no --tls_cert_file
// (`presented_certificate` false). Not for a server that is down (connection
// refused) or a certificate cardctl itself refused (its own handshake error).
bool LooksLikeMissingClientCertificate(const grpc::Status& status, bool tls,
                                       bool presented_certificate);

}  // namespace card::cardctl
