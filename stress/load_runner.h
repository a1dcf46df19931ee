// Drives the load: --concurrency operations in flight (or the concurrency
// schedule's value) over --connections channels per target, through gRPC's
// callback API (no thread per request). Closed loop by default (a finished
// operation starts the next); open loop with --rps or a rate schedule
// (operations start on schedule; latency counts from the schedule). A ticker
// closes the time series' intervals and prints progress.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "devcard/card/v1/card_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "stress/config.h"
#include "stress/h2c_transport.h"
#include "stress/stats.h"
#include "stress/workload.h"

namespace card::stress {

// Channels to every target, `connections` each, all connected before return:
// the client library's CreateChannel (TLS as flagged) with gRPC's own retries
// off, each channel on a TCP connection of its own.
absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> ConnectChannels(
    const Config& config);

class LoadRunner {
 public:
  // With `h2c` (--engine=h2c) the load's calls go through it instead of
  // `channels` (which still serve the verification).
  LoadRunner(const Config& config, std::vector<std::shared_ptr<grpc::Channel>> channels,
             Workload* workload, Stats* stats, H2cTransport* h2c = nullptr);
  ~LoadRunner();

  // Runs until every operation has finished (retries included).
  void Run();
  absl::Duration elapsed() const { return elapsed_; }

 private:
  struct Call;
  void Fill();
  void Start(Op op);
  void Issue(Call* call);
  static void OnH2cDone(void* arg, const grpc::Status& status);
  size_t PickChannel();
  bool Usable(size_t index);
  void OnDone(Call* call, const grpc::Status& status);
  void Release();
  void PaceLoop();
  void TimerLoop();
  void TickLoop();
  bool Finished() const;  // with mu_ held
  int Window(absl::Time now) const;
  Call* NewCall();
  void Recycle(Call* call);

  const Config& config_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<devcard::card::v1::CardService::Stub>> card_stubs_;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health_stubs_;
  std::atomic<uint64_t> next_stub_{0};
  // Channels whose last call ended UNAVAILABLE (a killed replica): skipped
  // until they are READY again, so healthy ones cost no state lookup per call.
  std::unique_ptr<std::atomic<bool>[]> suspect_;
  Workload* workload_;
  Stats* stats_;
  H2cTransport* h2c_;

  std::mutex mu_;  // guards the fields below
  std::condition_variable finished_;
  int active_ = 0;                 // operations holding a concurrency slot
  bool exhausted_ = false;         // the workload has no more operations
  std::deque<Op> backlog_;         // open loop: due operations waiting for a slot
  std::vector<Call*> free_calls_;  // finished calls kept for reuse (at most the window)

  std::mutex timer_mu_;
  std::condition_variable timer_wake_;
  std::multimap<absl::Time, Call*> retries_;
  bool stopping_ = false;
  std::thread timer_;

  absl::Time start_;
  absl::Duration elapsed_;
};

}  // namespace card::stress
