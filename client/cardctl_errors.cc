#include "client/cardctl_errors.h"

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
