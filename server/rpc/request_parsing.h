// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Turns a request's bytes into its message, and a failure into an
// INVALID_ARGUMENT that says what was wrong.
//
// Why not the generated typed handlers: gRPC 1.51's callback handler answers a
// request that does not parse (invalid UTF-8 in a string field, a truncated
// message) with UNIMPLEMENTED and an empty message, as if the method did not
// exist, and protobuf logs one ERROR line per such request. The service
// therefore registers the generated service's raw (ByteBuffer) methods and
// parses here; protobuf's own complaint, captured on this thread while parsing,
// names the field.
#pragma once

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/byte_buffer.h"

namespace card::rpc {

// OK, or INVALID_ARGUMENT naming the offending field when protobuf says which.
absl::Status ParseRequest(const grpc::ByteBuffer& bytes,
                          google::protobuf::Message* request);

// Serializes `response` into `bytes`.
void SerializeResponse(const google::protobuf::Message& response,
                       grpc::ByteBuffer* bytes);

// Routes protobuf's log output through the server's logger, rate limited, and
// lets ParseRequest capture what protobuf says while parsing. Call once at
// start-up.
void RouteProtobufLogs();

}  // namespace card::rpc
