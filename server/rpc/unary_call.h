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
// Group commit: a call started with a BatchHandler may run together with the
// calls of the same method queued right behind it for the same user
// (PerUserScheduler::Job::RunBatch): one handler call for all of them, one
// status each. Calls cancelled by then are answered CANCELLED and left out;
// the batch is bounded by the earliest deadline among the rest (the others go
// again if that cuts it short), and its statement is cancelled only when every
// call in it has been, so one caller giving up never undoes the others' work.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "server/common/cancellation.h"
#include "server/common/log.h"
#include "server/common/per_user_scheduler.h"
#include "server/rpc/request_parsing.h"
#include "server/rpc/status_mapping.h"

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
  // The work of several calls at once: fills responses[i] from requests[i];
  // returns one status per call, in order.
  using BatchHandler = std::function<std::vector<absl::Status>(
      const std::vector<const Request*>& requests,
      const std::vector<Response*>& responses, absl::Time deadline)>;

  // Starts the call and returns its reactor (gRPC owns it until OnDone).
  static grpc::ServerUnaryReactor* Start(grpc::CallbackServerContext* /*context*/,
                                         const grpc::ByteBuffer* request_bytes,
                                         grpc::ByteBuffer* response_bytes,
                                         PerUserScheduler* scheduler, absl::Time deadline,
                                         const QueueOf& queue_of, Handler handler) {
    auto* call = new UnaryCall(scheduler, response_bytes);
    call->Queue(*request_bytes, deadline, queue_of, [&] {
      return std::make_unique<Job>(call, std::move(handler), deadline);
    });
    call->Release();
    return call;
  }

  // The same for a call that may run in a batch (group commit).
  static grpc::ServerUnaryReactor* StartBatchable(
      grpc::CallbackServerContext* /*context*/, const grpc::ByteBuffer* request_bytes,
      grpc::ByteBuffer* response_bytes, PerUserScheduler* scheduler, absl::Time deadline,
      const QueueOf& queue_of, BatchHandler handler) {
    auto* call = new UnaryCall(scheduler, response_bytes);
    call->Queue(*request_bytes, deadline, queue_of, [&] {
      return std::make_unique<BatchableJob>(call, std::move(handler), deadline);
    });
    call->Release();
    return call;
  }

  void OnCancel() override {
    cancellation_.Cancel();
    if (PerUserScheduler::JobId id = job_id_.load()) scheduler_->Cancel(id);
  }
  void OnDone() override { Release(); }

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

  // Runs jobs of one method for one user together: see the top of the file.
  class BatchableJob final : public PerUserScheduler::Job {
   public:
    BatchableJob(UnaryCall* call, BatchHandler handler, absl::Time deadline)
        : call_(call), handler_(std::move(handler)), deadline_(deadline) {}

    // One per Request type: CreateCard calls batch with CreateCard calls only.
    const void* batch_kind() const override { return &kKind; }
    void Run() override { RunTogether({this}); }
    void RunBatch(std::vector<std::unique_ptr<PerUserScheduler::Job>>& batch) override {
      std::vector<BatchableJob*> jobs;
      jobs.reserve(batch.size());
      // Same kind, so the same type: kKind is this class's own.
      for (auto& job : batch) jobs.push_back(static_cast<BatchableJob*>(job.get()));
      RunTogether(jobs);
    }
    void Drop(const absl::Status& why) override { call_->Answer(why); }

   private:
    static constexpr char kKind = 0;

    static void RunTogether(const std::vector<BatchableJob*>& jobs) {
      std::vector<BatchableJob*> live;
      for (BatchableJob* job : jobs) {
        if (job->call_->cancellation_.IsCancelled()) {
          job->call_->Answer(absl::CancelledError("cancelled by the client"));
        } else {
          live.push_back(job);
        }
      }
      if (live.empty()) return;
      Cancellation batch_cancellation;
      std::atomic<size_t> not_cancelled{live.size()};
      for (BatchableJob* job : live) {
        job->call_->cancellation_.SetHook([&] {
          if (not_cancelled.fetch_sub(1) == 1) batch_cancellation.Cancel();
        });
      }
      {
        ScopedCallCancellation scope(&batch_cancellation);
        // The batch runs until the earliest deadline in it. If that cuts it
        // short, nothing of it was written, and the calls with time left go
        // again without the expired ones: a caller with a tight deadline costs
        // the others a retry, never their result.
        for (std::vector<BatchableJob*> round = std::move(live); !round.empty();) {
          round = RunRound(round);
        }
      }
    }

    // Runs `round` once and answers its calls, except those that failed only
    // because an earlier deadline in the round passed: those it returns.
    static std::vector<BatchableJob*> RunRound(const std::vector<BatchableJob*>& round) {
      absl::Time deadline = absl::InfiniteFuture();
      std::vector<const Request*> requests;
      std::vector<Response*> responses;
      for (BatchableJob* job : round) {
        deadline = std::min(deadline, job->deadline_);
        requests.push_back(&job->call_->request_);
        responses.push_back(&job->call_->response_);
      }
      std::vector<absl::Status> statuses;
      try {
        statuses = round.front()->handler_(requests, responses, deadline);
      } catch (const std::exception& e) {
        log::Error(absl::StrCat("unhandled exception in RPC: ", e.what()));
      }
      std::vector<BatchableJob*> again;
      for (size_t i = 0; i < round.size(); ++i) {
        absl::Status status =
            i < statuses.size() ? statuses[i] : absl::InternalError("internal error");
        if (absl::IsDeadlineExceeded(status) && round[i]->deadline_ > deadline &&
            absl::Now() < round[i]->deadline_) {
          again.push_back(round[i]);
        } else {
          // Before answering: once answered, the call may be gone.
          round[i]->call_->cancellation_.ClearHook();
          round[i]->call_->Answer(status);
        }
      }
      return again;
    }

    UnaryCall* call_;
    BatchHandler handler_;
    absl::Time deadline_;
  };

  UnaryCall(PerUserScheduler* scheduler, grpc::ByteBuffer* response_bytes)
      : scheduler_(scheduler), response_bytes_(response_bytes) {}

  // The call is deleted when both gRPC is done with it (OnDone) and Start has
  // returned: a worker may answer, and gRPC finish, before Start is through.
  void Release() {
    if (holds_.fetch_sub(1) == 1) delete this;
  }

  // Parses the request and queues the job `make_job` makes, or answers at once.
  template <class MakeJob>
  void Queue(const grpc::ByteBuffer& request_bytes, absl::Time deadline,
             const QueueOf& queue_of, MakeJob make_job) {
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
    absl::StatusOr<PerUserScheduler::JobId> id =
        scheduler_->Submit(*queue, deadline, request_bytes.Length(), make_job());
    if (id.ok()) {
      job_id_ = *id;
      // A cancel that came before the id was known could not drop it.
      if (cancellation_.IsCancelled()) scheduler_->Cancel(*id);
    }
  }

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
  std::atomic<int> holds_{2};  // OnDone's and Start's
};

}  // namespace card::rpc
