// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/load_runner.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace card::stress {

// One operation's call. Finished calls are reused (their messages cleared),
// so a steady run allocates no messages.
struct LoadRunner::Call {
  Op op;
  OpKind kind = OpKind::kHealth;  // what `request` and `response` are
  LoadRunner* runner = nullptr;   // for the engine's plain-function callback
  std::unique_ptr<google::protobuf::Message> request;
  std::unique_ptr<google::protobuf::Message> response;

  // Makes the call `next`'s: its request filled, its messages of the right type.
  void Prepare(Op next) {
    const Operation& operation = OperationOf(next.kind);
    if (!request || kind != next.kind) {
      kind = next.kind;
      request = operation.new_request();
      response = operation.new_response();
    } else {
      request->Clear();
    }
    operation.fill_request(next, request.get());
    op = std::move(next);
  }
};

namespace {

absl::Duration Backoff(int attempt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  absl::Duration base =
      std::min(absl::Milliseconds(50) * (1 << std::min(attempt, 6)), absl::Seconds(2));
  return base * std::uniform_real_distribution<double>(0.8, 1.2)(rng);
}

}  // namespace

LoadRunner::LoadRunner(const Config& config, LoadEngine* engine, Workload* workload,
                       Stats* stats)
    : config_(config), engine_(engine), workload_(workload), stats_(stats) {
  timer_ = std::thread([this] { TimerLoop(); });
}

LoadRunner::~LoadRunner() {
  {
    absl::MutexLock lock(&timer_mu_);
    stopping_ = true;
  }
  timer_wake_.SignalAll();
  timer_.join();
  for (Call* call : free_calls_) delete call;
}

bool LoadRunner::Finished() const {
  return exhausted_ && active_ == 0 && backlog_.empty() && releasing_ == 0;
}

// The concurrency window now: the schedule's value, at least 1, at most the
// slots set aside for it (--concurrency, or the schedule's largest value).
int LoadRunner::Window(absl::Time now) const {
  if (config_.window.constant()) return config_.concurrency;
  int window = static_cast<int>(config_.window.At(now - start_));
  return std::clamp(window, 1, config_.concurrency);
}

void LoadRunner::Run() {
  start_ = absl::Now();
  stats_->Start(start_, config_.warmup, config_.warmup_requests, config_.interval);
  std::thread ticker([this] { TickLoop(); });
  std::thread pacer;
  if (config_.open_loop()) {
    pacer = std::thread([this] { PaceLoop(); });
  } else {
    Fill();
  }
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &LoadRunner::Finished));
  }
  elapsed_ = absl::Now() - start_;
  if (pacer.joinable()) pacer.join();
  ticker.join();
}

// Starts operations until the window is full. RPCs are started outside the
// lock: a callback may run inline and come back here.
void LoadRunner::Fill() {
  std::vector<Op> due;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = absl::Now();
    const int window = Window(now);
    while (!exhausted_ && active_ < window) {
      std::optional<Op> op = workload_->Next(now);
      if (!op) {
        exhausted_ = true;
        break;
      }
      op->intended = now;
      ++active_;
      due.push_back(*std::move(op));
    }
  }
  for (Op& op : due) Start(std::move(op));
}

// Open loop: each operation is due 1/rate after the one before, the rate
// being the schedule's value at that moment.
void LoadRunner::PaceLoop() {
  absl::Time due = start_;
  for (;;) {
    double rate = config_.rate.At(due - start_);
    if (rate < 1e-3) {  // a schedule at zero: look again shortly
      due += absl::Milliseconds(10);
      absl::SleepFor(due - absl::Now());
      if (!workload_->planned() && config_.duration > absl::ZeroDuration() &&
          due - start_ >= config_.duration) {
        absl::MutexLock lock(&mu_);
        exhausted_ = true;
        return;
      }
      continue;
    }
    absl::SleepFor(due - absl::Now());
    std::optional<Op> op = workload_->Next(due);
    absl::ReleasableMutexLock lock(&mu_);
    if (!op) {
      exhausted_ = true;
      return;
    }
    op->intended = due;  // a late start counts against the server
    due += absl::Seconds(1) / rate;
    if (active_ >= Window(op->intended)) {
      backlog_.push_back(*std::move(op));
      continue;
    }
    ++active_;
    lock.Release();
    Start(*std::move(op));
  }
}

LoadRunner::Call* LoadRunner::NewCall() {
  {
    absl::MutexLock lock(&mu_);
    if (!free_calls_.empty()) {
      Call* call = free_calls_.back();
      free_calls_.pop_back();
      return call;
    }
  }
  auto* call = new Call;
  call->runner = this;
  return call;
}

void LoadRunner::Recycle(Call* call) {
  absl::MutexLock lock(&mu_);
  if (free_calls_.size() < static_cast<size_t>(config_.concurrency)) {
    free_calls_.push_back(call);
  } else {
    delete call;
  }
}

void LoadRunner::Start(Op op) {
  Call* call = NewCall();
  call->Prepare(std::move(op));
  stats_->RecordStarted(absl::Now());
  Issue(call);
}

void LoadRunner::Issue(Call* call) {
  call->response->Clear();
  engine_->Send(OperationOf(call->op.kind), *call->request, call->response.get(),
                config_.timeout, &LoadRunner::OnEngineDone, call);
}

void LoadRunner::OnEngineDone(void* arg, const grpc::Status& status) {
  Call* call = static_cast<Call*>(arg);
  call->runner->OnDone(call, status);
}

void LoadRunner::OnDone(Call* call, const grpc::Status& status) {
  if (!status.ok() && call->op.attempt < config_.max_retries &&
      Workload::Retryable(call->op, status)) {
    ++call->op.attempt;
    stats_->RecordAttemptRetried(call->op.kind);
    {
      absl::MutexLock lock(&timer_mu_);
      retries_.emplace(absl::Now() + Backoff(call->op.attempt), call);
    }
    timer_wake_.Signal();
    return;
  }
  const Operation& operation = OperationOf(call->op.kind);
  Workload::Outcome outcome = workload_->Finish(
      call->op, status, status.ok() ? operation.result_id(*call->response) : "");
  absl::Time now = absl::Now();
  stats_->RecordFinal(call->op.kind, status, outcome, now - call->op.intended, now);
  // Closed loop with a fixed window: the finished call's slot, and the call
  // itself, go straight to the next operation, without the runner's lock.
  if (!config_.open_loop() && config_.window.constant()) {
    std::optional<Op> next = workload_->Next(now);
    if (next) {
      next->intended = now;
      call->Prepare(*std::move(next));
      stats_->RecordStarted(now);
      Issue(call);
      return;
    }
    delete call;
    absl::MutexLock lock(&mu_);
    exhausted_ = true;
    --active_;
    return;
  }
  Recycle(call);
  Release();
}

// Gives the finished operation's slot to the next one. The work done outside
// the lock is counted in releasing_, so that Run() cannot return (and the
// runner be destroyed) while this thread is still in Start or Fill.
void LoadRunner::Release() {
  if (config_.open_loop()) {
    std::optional<Op> next;
    {
      absl::MutexLock lock(&mu_);
      if (backlog_.empty() || active_ > Window(absl::Now())) {
        --active_;
        return;
      }
      next = std::move(backlog_.front());
      backlog_.pop_front();
      ++releasing_;
    }
    Start(*std::move(next));
  } else {
    {
      absl::MutexLock lock(&mu_);
      --active_;
      ++releasing_;
    }
    Fill();
  }
  absl::MutexLock lock(&mu_);
  --releasing_;
}

void LoadRunner::TimerLoop() {
  timer_mu_.Lock();
  while (!stopping_) {
    if (retries_.empty()) {
      timer_wake_.Wait(&timer_mu_);
      continue;
    }
    absl::Time due = retries_.begin()->first;
    if (absl::Now() < due) {
      timer_wake_.WaitWithDeadline(&timer_mu_, due);
      continue;
    }
    Call* call = retries_.begin()->second;
    retries_.erase(retries_.begin());
    timer_mu_.Unlock();
    Issue(call);
    timer_mu_.Lock();
  }
  timer_mu_.Unlock();
}

// Closes each interval of the series a little after it ends (late
// completions still land in it), prints progress, and in a closed loop with a
// concurrency schedule widens the window as the schedule rises.
void LoadRunner::TickLoop() {
  constexpr absl::Duration kGrace = absl::Milliseconds(20);
  const bool in_place = config_.progress == Progress::kAuto && isatty(STDERR_FILENO);
  const bool lines = config_.progress == Progress::kLines ||
                     (config_.progress == Progress::kAuto && !in_place);
  const bool widen = !config_.open_loop() && !config_.window.constant();
  const absl::Duration tick =
      widen ? std::min(config_.interval, absl::Milliseconds(50)) : config_.interval;
  int64_t next_interval = 0;
  for (bool done = false; !done;) {
    absl::Time wake = std::min(start_ + config_.interval * (next_interval + 1) + kGrace,
                               absl::Now() + tick);
    int in_flight = 0;
    {
      absl::MutexLock lock(&mu_);
      done = mu_.AwaitWithDeadline(absl::Condition(this, &LoadRunner::Finished), wake);
      in_flight = active_;
    }
    absl::Time now = absl::Now();
    if (widen && !done) Fill();
    // Close every interval that has ended (and, at the end, the last one).
    while (start_ + config_.interval * (next_interval + 1) + kGrace <= now ||
           (done && start_ + config_.interval * next_interval < now)) {
      absl::Time end = start_ + config_.interval * (next_interval + 1);
      absl::Time at = std::min(end, now);
      // The schedules' values at the interval's middle: a line's mean over it.
      absl::Time middle = at - (at - (start_ + config_.interval * next_interval)) / 2;
      double rate = config_.open_loop() ? config_.rate.At(middle - start_) : 0;
      Interval interval =
          stats_->CloseInterval(next_interval, at, rate, Window(middle), in_flight);
      ++next_interval;
      if (!lines && !in_place) continue;
      uint64_t done_ops = stats_->finished() + stats_->warmup_operations();
      std::string line = absl::StrFormat(
          "[%6.1fs] %llu done, %.0f/s now, p99 %.2f ms, %d in flight, %llu errors%s",
          interval.end_s, static_cast<unsigned long long>(done_ops),
          interval.ops_per_second, interval.p99_ms, in_flight,
          static_cast<unsigned long long>(stats_->errors()),
          interval.warmup ? " (warm-up)" : "");
      std::fprintf(stderr, in_place ? "\r%s   " : "%s\n", line.c_str());
    }
  }
  if (in_place) std::fprintf(stderr, "\n");
}

}  // namespace card::stress
