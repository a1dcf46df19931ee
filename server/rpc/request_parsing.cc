// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/rpc/request_parsing.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/proto_buffer_writer.h"
#include "server/common/rate_limited_log.h"
#include "server/common/status.h"

namespace card::rpc {
namespace {

// Set while this thread parses a request: protobuf's complaint lands here
// instead of the log.
thread_local std::string* parse_complaint = nullptr;

void LogFromProtobuf(google::protobuf::LogLevel level, const char* /*filename*/,
                     int /*line*/, const std::string& message) {
  if (parse_complaint != nullptr) {
    if (parse_complaint->empty()) *parse_complaint = message;
    return;
  }
  if (level < google::protobuf::LOGLEVEL_WARNING) return;
  static RateLimitedLog limited("protobuf log lines", /*lines_per_window=*/10,
                                absl::Seconds(60));
  limited.Warning(absl::StrCat("protobuf: ", message));
}

// protobuf says: String field 'devcard.card.v1.Card.title' contains invalid
// UTF-8 data ... Returns "title" and "devcard.card.v1.Card", or empties.
void FieldOfComplaint(const std::string& complaint, std::string* field,
                      std::string* message_type) {
  size_t open = complaint.find('\'');
  size_t close = open == std::string::npos ? open : complaint.find('\'', open + 1);
  if (close == std::string::npos) return;
  std::string full = complaint.substr(open + 1, close - open - 1);
  size_t dot = full.rfind('.');
  if (dot == std::string::npos) return;
  *field = full.substr(dot + 1);
  *message_type = full.substr(0, dot);
}

}  // namespace

absl::Status ParseRequest(const grpc::ByteBuffer& bytes,
                          google::protobuf::Message* request) {
  grpc::ByteBuffer copy(bytes);  // shares the slices; the reader consumes its own
  std::string complaint;
  parse_complaint = &complaint;
  bool parsed = false;
  {
    grpc::ProtoBufferReader reader(&copy);
    parsed = reader.status().ok() && request->ParseFromZeroCopyStream(&reader);
  }
  parse_complaint = nullptr;
  if (parsed) return absl::OkStatus();
  std::string field, message_type;
  if (complaint.find("UTF-8") != std::string::npos) {
    FieldOfComplaint(complaint, &field, &message_type);
    if (!field.empty()) {
      return InvalidField(field, absl::StrCat("must be valid UTF-8 (in ", message_type,
                                              "; string fields carry text, not bytes)"));
    }
  }
  return InvalidField("request",
                      absl::StrCat("not a valid ", request->GetDescriptor()->full_name(),
                                   " message (malformed or truncated)"));
}

void SerializeResponse(const google::protobuf::Message& response,
                       grpc::ByteBuffer* bytes) {
  bool own_buffer = false;
  grpc::GenericSerialize<grpc::ProtoBufferWriter, google::protobuf::Message>(
      response, bytes, &own_buffer);
}

void RouteProtobufLogs() { google::protobuf::SetLogHandler(&LogFromProtobuf); }

}  // namespace card::rpc
