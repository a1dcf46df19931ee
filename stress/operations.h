// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The operation table: one entry per operation kind with everything that
// differs between kinds — its name, the gRPC method it calls, how its request
// is built, what its response carries, whether it may be retried, which
// failures are expected, and what it leaves in the history the verifier
// checks. The runner, the engines and the workload read the table; none of
// them switches on the kind.
#pragma once

#include <memory>
#include <string>

#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"
#include "stress/config.h"
#include "stress/history.h"
#include "stress/workload.h"

namespace card::stress {

struct Operation {
  OpKind kind;
  const char* name;    // in reports and --mix
  const char* method;  // the gRPC method, as its HTTP/2 path
  std::unique_ptr<google::protobuf::Message> (*new_request)();
  std::unique_ptr<google::protobuf::Message> (*new_response)();
  // Fills `request` (a cleared new_request()) for `op`.
  void (*fill_request)(const Op& op, google::protobuf::Message* request);
  // The card or link id an OK call produced ("" if none), for the history.
  std::string (*result_id)(const google::protobuf::Message& response);
  // Whether an attempt that ended indeterminate may be sent again as is.
  bool idempotent;
  // Whether `code` is a legitimate end in a mixed run, where our own deletes
  // race our own set-defaults and updates.
  bool (*expected)(grpc::StatusCode code);
  // What the verifier needs: whether the kind is recorded at all, and how an
  // OK, an expected or an indeterminate/failed end changes the user's history.
  bool recorded;
  void (*record_ok)(const Op& op, const std::string& result_id, bool mixed,
                    History& history, UserSummary& user);
  void (*record_unsettled)(const Op& op, bool indeterminate, History& history,
                           UserSummary& user);
};

// The entry of `kind`.
const Operation& OperationOf(OpKind kind);

}  // namespace card::stress
