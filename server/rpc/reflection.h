// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Server reflection, complete enough for grpcurl and other reflection-only
// clients: every service the server lists can be described, with all the
// files it depends on.
//
// gRPC 1.51 (Debian bookworm) serves grpc.reflection.v1alpha from
// protobuf's generated descriptor pool, but two things are missing there:
//  * the built-in health service (grpc.health.v1.Health) is implemented
//    without protobuf's generated code, so its descriptor is not in the pool
//    and `file_containing_symbol grpc.health.v1.Health` answered NOT_FOUND.
//    Linking Debian's generated health.proto (grpc_health_proto) puts it
//    there; EnableReflection makes sure the linker keeps it.
//  * grpc.reflection.v1, the non-alpha name newer clients ask for first,
//    arrived in gRPC 1.57. ReflectionV1Option serves it from the same pool
//    with the same answers (the messages are the same on the wire).
#pragma once

#include <memory>

#include "grpcpp/server_builder.h"

namespace card::rpc {

// Call before constructing the ServerBuilder: registers gRPC's v1alpha
// reflection plugin (it applies to builders created afterwards) and the
// health descriptor.
void EnableReflection();

// Serves grpc.reflection.v1 on the builder it is given to (builder.SetOption),
// listing the same services as v1alpha.
std::unique_ptr<grpc::ServerBuilderOption> ReflectionV1Option();

}  // namespace card::rpc
