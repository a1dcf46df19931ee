// One unary RPC from arrival to Finish: parsed from its bytes, queued on its
// user's queue in the PerUserScheduler, run on a worker with the call's
// cancellation installed, answered once.
//
// Cancellation reaches every stage: a client cancel (or gRPC's own deadline)
// while queued drops the call from its queue at once; while running it cancels
// the statement in PostgreSQL (storage hooks the Cancellation). The capped
// deadline (CardService::RequestDeadline) is enforced by the scheduler while
// queued and by storage while running.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/cancellation.h"
#include "common/log.h"
#include "common/per_user_scheduler.h"
#include "grpcpp/grpcpp.h"
#include "rpc/request_parsing.h"
#include "rpc/status_mapping.h"

namespace card::rpc {

template <class Request, class Response>
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  // The call's work: reads `request`, fills `response`, bounded by `deadline`.
  using Handler =
      std::function<absl::Status(const Request&, Response*, absl::Time deadline)>;
  // Which queue the call waits in (a user id, or a namespaced key), or an
  // error for a request that must not queue at all.
  using QueueOf = std::function<absl::StatusOr<std::string>(const Request&)>;

  // Starts the call and returns its reactor (gRPC owns it until OnDone).
  static grpc::ServerUnaryReactor* Start(grpc::CallbackServerContext* /*context*/,
                                         const grpc::ByteBuffer* request_bytes,
                                         grpc::ByteBuffer* response_bytes,
                                         PerUserScheduler* scheduler, absl::Time deadline,
                                         const QueueOf& queue_of, Handler handler) {
    auto* call = new UnaryCall(scheduler, response_bytes);
    absl::Status parsed = ParseRequest(*request_bytes, &call->request_);
    if (!parsed.ok()) {
      call->Answer(parsed);
      return call;
    }
    absl::StatusOr<std::string> queue = queue_of(call->request_);
    if (!queue.ok()) {
      call->Answer(queue.status());
      return call;
    }
    auto job = std::make_unique<Job>(call, std::move(handler), deadline);
    absl::StatusOr<PerUserScheduler::JobId> id =
        scheduler->Submit(*queue, deadline, request_bytes->Length(), std::move(job));
    if (id.ok()) {
      call->job_id_ = *id;
      // A cancel that came before the id was known could not drop it.
      if (call->cancellation_.IsCancelled()) scheduler->Cancel(*id);
    }
    return call;
  }

  void OnCancel() override {
    cancellation_.Cancel();
    if (PerUserScheduler::JobId id = job_id_.load()) scheduler_->Cancel(id);
  }
  void OnDone() override { delete this; }

 private:
  class Job final : public PerUserScheduler::Job {
   public:
    Job(UnaryCall* call, Handler handler, absl::Time deadline)
        : call_(call), handler_(std::move(handler)), deadline_(deadline) {}

    void Run() override {
      if (call_->cancellation_.IsCancelled()) {
        call_->Answer(absl::CancelledError("cancelled by the client"));
        return;
      }
      ScopedCallCancellation scope(&call_->cancellation_);
      absl::Status status;
      try {
        status = handler_(call_->request_, &call_->response_, deadline_);
      } catch (const std::exception& e) {
        // No exception escapes a handler; the caller gets a generic message.
        log::Error(absl::StrCat("unhandled exception in RPC: ", e.what()));
        status = absl::InternalError("internal error");
      }
      call_->Answer(status);
    }
    void Drop(const absl::Status& why) override { call_->Answer(why); }

   private:
    UnaryCall* call_;
    Handler handler_;
    absl::Time deadline_;
  };

  UnaryCall(PerUserScheduler* scheduler, grpc::ByteBuffer* response_bytes)
      : scheduler_(scheduler), response_bytes_(response_bytes) {}

  void Answer(const absl::Status& status) {
    if (status.ok()) SerializeResponse(response_, response_bytes_);
    Finish(ToGrpcStatus(status));
  }

  PerUserScheduler* scheduler_;
  grpc::ByteBuffer* response_bytes_;
  Request request_;
  Response response_;
  Cancellation cancellation_;
  std::atomic<PerUserScheduler::JobId> job_id_{0};
};

}  // namespace card::rpc
