// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "client/cardctl_errors.h"

#include <string>

#include "absl/strings/match.h"
#include "client/card_client.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace card::cardctl {

ExitCode ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitInvalid;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
      return kExitConflict;
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return kExitPermission;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::CANCELLED:
      return kExitUnavailable;
    default:
      return kExitOther;
  }
}

bool LooksLikeMissingClientCertificate(const grpc::Status& status, bool tls,
                                       bool presented_certificate) {
  if (!tls || presented_certificate) return false;
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  const std::string& message = status.error_message();
  // gRPC 1.51: the server verifies the client's certificate after the client
  // finished its side of the TLS 1.3 handshake, then closes the socket; the
  // client sees "Socket closed" (or a handshake read failing) rather than an
  // alert. A refused connection or our own verification failure reads otherwise.
  if (absl::StrContains(message, "Connection refused") ||
      absl::StrContains(message, "CERTIFICATE_VERIFY_FAILED")) {
    return false;
  }
  return absl::StrContains(message, "Socket closed") ||
         absl::StrContains(message, "Handshake read failed");
}

void PrintError(std::ostream& out, const grpc::Status& status) {
  out << client::StatusCodeName(status.error_code()) << ": " << status.error_message()
      << "\n";
  if (status.error_details().empty()) return;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) {
    out << "  (undecodable error details)\n";
    return;
  }
  for (const google::protobuf::Any& detail : details.details()) {
    google::rpc::BadRequest bad_request;
    if (detail.UnpackTo(&bad_request)) {
      for (const auto& violation : bad_request.field_violations()) {
        out << "  " << violation.field() << ": " << violation.description() << "\n";
      }
    } else {
      out << "  (detail " << detail.type_url() << ")\n";
    }
  }
}

}  // namespace card::cardctl
