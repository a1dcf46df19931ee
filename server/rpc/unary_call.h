// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// One unary RPC from arrival to Finish: parsed from its bytes, queued on its
// user's queue in the PerUserScheduler, run on a worker with the call's
// cancellation installed, answered once.
//
// Cancellation reaches every stage: a client cancel (or gRPC's own deadline)
// while queued drops the call from its queue at once; while running it cancels
// the statement in PostgreSQL (storage hooks the Cancellation). The capped
// deadline (CardService::RequestDeadline) is enforced by the scheduler while
// queued and by storage while running.
//
// Every call runs as a batch round (exec/batch_round.h): a call with a plain
// Handler is a round of one; a call with a BatchHandler (group commit) may run
// together with the calls of the same method queued right behind it for the
// same user (PerUserScheduler::Job::RunBatch): one handler call for all of
// them, one status each.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "server/common/check.h"
#include "server/exec/batch_round.h"
#include "server/exec/cancellation.h"
#include "server/exec/per_user_scheduler.h"
#include "server/rpc/request_parsing.h"
#include "server/rpc/status_mapping.h"

namespace card::rpc {

template <class Request, class Response>
class UnaryCall final : public grpc::ServerUnaryReactor, private BatchMember {
 public:
  // The call's work: reads `request`, fills `response`, bounded by `deadline`.
  using Handler =
      std::function<absl::Status(const Request&, Response*, absl::Time deadline)>;
  // The work of several calls of the method at once: fills responses[i] from
  // requests[i]; returns one status per call, in order.
  using BatchHandler = std::function<std::vector<absl::Status>(
      const std::vector<const Request*>& requests,
      const std::vector<Response*>& responses, absl::Time deadline)>;
  // A method's work is one or the other; only a BatchHandler batches.
  using Work = std::variant<Handler, BatchHandler>;
  // Which queue the call waits in (a user id, or a namespaced key), or an
  // error for a request that must not queue at all.
  using QueueOf = std::function<absl::StatusOr<std::string>(const Request&)>;

  // Starts the call and returns its reactor (gRPC owns it until OnDone).
  static grpc::ServerUnaryReactor* Start(const grpc::ByteBuffer* request_bytes,
                                         grpc::ByteBuffer* response_bytes,
                                         PerUserScheduler* scheduler, absl::Time deadline,
                                         const QueueOf& queue_of, Work work) {
    auto* call = new UnaryCall(scheduler, response_bytes, deadline, std::move(work));
    call->Queue(*request_bytes, queue_of);
    call->Release();
    return call;
  }

  void OnCancel() override {
    cancellation_.Cancel();
    if (PerUserScheduler::JobId id = job_id_.load()) scheduler_->Cancel(id);
  }
  void OnDone() override { Release(); }

 private:
  // The call's place in the scheduler; the scheduler owns it, the call owns
  // itself (Release).
  class Job final : public PerUserScheduler::Job {
   public:
    explicit Job(UnaryCall* call) : call_(call) {}

    // One kind per method (this class is one per Request and Response type).
    BatchKind batch_kind() const override {
      if (!std::holds_alternative<BatchHandler>(call_->work_)) return std::nullopt;
      return std::type_index(typeid(Job));
    }
    void Run() override { card::RunBatch({call_}, &UnaryCall::RunRound); }
    void RunBatch(std::vector<std::unique_ptr<PerUserScheduler::Job>>& batch) override {
      std::vector<BatchMember*> members;
      members.reserve(batch.size());
      // Same kind, so the same type.
      for (auto& job : batch) members.push_back(static_cast<Job*>(job.get())->call_);
      card::RunBatch(std::move(members), &UnaryCall::RunRound);
    }
    void Drop(const absl::Status& why) override { call_->Answer(why); }

   private:
    UnaryCall* call_;
  };

  UnaryCall(PerUserScheduler* scheduler, grpc::ByteBuffer* response_bytes,
            absl::Time deadline, Work work)
      : scheduler_(scheduler),
        response_bytes_(response_bytes),
        deadline_(deadline),
        work_(std::move(work)) {}

  // One round of calls of this method (BatchWork): the first call's work
  // serves them all.
  static std::vector<absl::Status> RunRound(const std::vector<BatchMember*>& members,
                                            absl::Time deadline) {
    UnaryCall* first = static_cast<UnaryCall*>(members.front());
    if (const Handler* handler = std::get_if<Handler>(&first->work_)) {
      CARD_CHECK(members.size() == 1, "a call without a batch kind runs alone");
      return {(*handler)(first->request_, &first->response_, deadline)};
    }
    std::vector<const Request*> requests;
    std::vector<Response*> responses;
    requests.reserve(members.size());
    responses.reserve(members.size());
    for (BatchMember* member : members) {
      UnaryCall* call = static_cast<UnaryCall*>(member);
      requests.push_back(&call->request_);
      responses.push_back(&call->response_);
    }
    return std::get<BatchHandler>(first->work_)(requests, responses, deadline);
  }

  // BatchMember
  absl::Time deadline() const override { return deadline_; }
  Cancellation& cancellation() override { return cancellation_; }
  void Answer(const absl::Status& status) override {
    if (status.ok()) SerializeResponse(response_, response_bytes_);
    Finish(ToGrpcStatus(status));
  }

  // The call is deleted when both gRPC is done with it (OnDone) and Start has
  // returned: a worker may answer, and gRPC finish, before Start is through.
  void Release() {
    if (holds_.fetch_sub(1) == 1) delete this;
  }

  // Parses the request and queues the call, or answers at once.
  void Queue(const grpc::ByteBuffer& request_bytes, const QueueOf& queue_of) {
    absl::Status parsed = ParseRequest(request_bytes, &request_);
    if (!parsed.ok()) {
      Answer(parsed);
      return;
    }
    absl::StatusOr<std::string> queue = queue_of(request_);
    if (!queue.ok()) {
      Answer(queue.status());
      return;
    }
    absl::StatusOr<PerUserScheduler::JobId> id = scheduler_->Submit(
        *queue, deadline_, request_bytes.Length(), std::make_unique<Job>(this));
    if (id.ok()) {
      job_id_ = *id;
      // A cancel that came before the id was known could not drop it.
      if (cancellation_.IsCancelled()) scheduler_->Cancel(*id);
    }
  }

  PerUserScheduler* const scheduler_;
  grpc::ByteBuffer* const response_bytes_;
  const absl::Time deadline_;
  const Work work_;
  Request request_;
  Response response_;
  Cancellation cancellation_;
  std::atomic<PerUserScheduler::JobId> job_id_{0};
  std::atomic<int> holds_{2};  // OnDone's and Start's
};

}  // namespace card::rpc
