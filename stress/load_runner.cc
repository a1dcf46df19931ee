#include "stress/load_runner.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/card_client.h"

namespace card::stress {

namespace v1 = devcard::card::v1;
namespace health = grpc::health::v1;

// One operation's call. Finished calls are reused (their messages cleared),
// so a steady run allocates no messages; the ClientContext is new per attempt,
// as gRPC requires.
struct LoadRunner::Call {
  Op op;
  std::optional<grpc::ClientContext> context;
  OpKind kind = OpKind::kHealth;  // what `request` and `response` are
  LoadRunner* runner = nullptr;   // for the h2c engine's plain-function callback
  size_t channel = 0;             // of the attempt in flight
  std::unique_ptr<google::protobuf::Message> request;
  std::unique_ptr<google::protobuf::Message> response;
};

namespace {

std::unique_ptr<google::protobuf::Message> NewRequest(OpKind kind) {
  switch (kind) {
    case OpKind::kCreate:
      return std::make_unique<v1::CreateCardRequest>();
    case OpKind::kSetDefault:
      return std::make_unique<v1::SetDefaultCardRequest>();
    case OpKind::kDelete:
      return std::make_unique<v1::DeleteCardRequest>();
    case OpKind::kUpdateLinks:
      return std::make_unique<v1::UpdateCardRequest>();
    case OpKind::kGet:
      return std::make_unique<v1::GetCardRequest>();
    case OpKind::kList:
      return std::make_unique<v1::ListCardsRequest>();
    case OpKind::kCreateLink:
      return std::make_unique<v1::CreatePlatformLinkRequest>();
    case OpKind::kHealth:
      return std::make_unique<health::HealthCheckRequest>();
  }
  return nullptr;
}

std::unique_ptr<google::protobuf::Message> NewResponse(OpKind kind) {
  switch (kind) {
    case OpKind::kDelete:
      return std::make_unique<google::protobuf::Empty>();
    case OpKind::kList:
      return std::make_unique<v1::ListCardsResponse>();
    case OpKind::kCreateLink:
      return std::make_unique<v1::PlatformLink>();
    case OpKind::kHealth:
      return std::make_unique<health::HealthCheckResponse>();
    default:
      return std::make_unique<v1::Card>();
  }
}

// Fills `message` (a cleared NewRequest(op.kind)) for `op`.
void FillRequest(const Op& op, google::protobuf::Message* message) {
  switch (op.kind) {
    case OpKind::kCreate: {
      auto* request = static_cast<v1::CreateCardRequest*>(message);
      request->set_user_id(op.user_id);
      request->mutable_card()->set_title("Stress card");
      request->mutable_card()->set_description(op.request_id);  // finds duplicates later
      request->set_request_id(op.request_id);
      return;
    }
    case OpKind::kSetDefault: {
      auto* request = static_cast<v1::SetDefaultCardRequest*>(message);
      request->set_user_id(op.user_id);
      request->set_card_id(op.card_id);
      return;
    }
    case OpKind::kDelete: {
      auto* request = static_cast<v1::DeleteCardRequest*>(message);
      request->set_user_id(op.user_id);
      request->set_card_id(op.card_id);
      return;
    }
    case OpKind::kUpdateLinks: {
      auto* request = static_cast<v1::UpdateCardRequest*>(message);
      request->set_user_id(op.user_id);
      request->mutable_card()->set_id(op.card_id);
      request->mutable_update_mask()->add_paths("links");
      for (const std::string& id : op.link_ids) request->add_link_ids(id);
      return;
    }
    case OpKind::kGet: {
      auto* request = static_cast<v1::GetCardRequest*>(message);
      request->set_user_id(op.user_id);
      request->set_card_id(op.card_id);
      return;
    }
    case OpKind::kList:
      static_cast<v1::ListCardsRequest*>(message)->set_user_id(op.user_id);
      return;
    case OpKind::kCreateLink: {
      auto* request = static_cast<v1::CreatePlatformLinkRequest*>(message);
      request->set_user_id(op.user_id);
      request->mutable_link()->set_platform("github");
      request->mutable_link()->set_username("stress");
      request->mutable_link()->set_url("https://example.com/stress");
      return;
    }
    case OpKind::kHealth:
      return;  // an empty request: the server's overall health
  }
}

// The id an OK operation produced, for the history.
std::string ResultId(const Op& op, const google::protobuf::Message& response) {
  switch (op.kind) {
    case OpKind::kCreate:
    case OpKind::kSetDefault:
      return static_cast<const v1::Card&>(response).id();
    case OpKind::kCreateLink:
      return static_cast<const v1::PlatformLink&>(response).id();
    default:
      return "";
  }
}

absl::Duration Backoff(int attempt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  absl::Duration base =
      std::min(absl::Milliseconds(50) * (1 << std::min(attempt, 6)), absl::Seconds(2));
  return base * std::uniform_real_distribution<double>(0.8, 1.2)(rng);
}

}  // namespace

absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> ConnectChannels(
    const Config& config) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int c = 0; c < config.connections; ++c) {
    for (const std::string& target : config.targets) {
      client::ClientOptions options;
      options.target = target;
      options.tls = config.tls;
      options.tls_ca_file = config.tls_ca_file;
      options.tls_server_name = config.tls_server_name;
      options.tls_cert_file = config.tls_cert_file;
      options.tls_key_file = config.tls_key_file;
      // card-stress retries itself (same request_id, counted in the report).
      options.retries = false;
      grpc::ChannelArguments args;
      // Distinct arguments and a local subchannel pool: one TCP connection each.
      args.SetInt("card.stress.channel", static_cast<int>(channels.size()));
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetMaxReceiveMessageSize(64 << 20);
      absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
          client::CreateChannel(options, args);
      if (!channel.ok()) return channel.status();
      channels.push_back(*std::move(channel));
    }
  }
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
  for (size_t i = 0; i < channels.size(); ++i) {
    if (!channels[i]->WaitForConnected(deadline)) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to ", config.targets[i % config.targets.size()]));
    }
  }
  return channels;
}

LoadRunner::LoadRunner(const Config& config,
                       std::vector<std::shared_ptr<grpc::Channel>> channels,
                       Workload* workload, Stats* stats, H2cTransport* h2c)
    : config_(config),
      channels_(std::move(channels)),
      workload_(workload),
      stats_(stats),
      h2c_(h2c) {
  suspect_ = std::make_unique<std::atomic<bool>[]>(channels_.size());
  for (const auto& channel : channels_) {
    card_stubs_.push_back(v1::CardService::NewStub(channel));
    health_stubs_.push_back(health::Health::NewStub(channel));
  }
  timer_ = std::thread([this] { TimerLoop(); });
}

LoadRunner::~LoadRunner() {
  {
    std::lock_guard<std::mutex> lock(timer_mu_);
    stopping_ = true;
  }
  timer_wake_.notify_all();
  timer_.join();
}

bool LoadRunner::Finished() const {
  return exhausted_ && active_ == 0 && backlog_.empty();
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
    std::unique_lock<std::mutex> lock(mu_);
    finished_.wait(lock, [this] { return Finished(); });
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
    std::lock_guard<std::mutex> lock(mu_);
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
    if (Finished()) finished_.notify_all();
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
        std::lock_guard<std::mutex> lock(mu_);
        exhausted_ = true;
        if (Finished()) finished_.notify_all();
        return;
      }
      continue;
    }
    absl::SleepFor(due - absl::Now());
    std::optional<Op> op = workload_->Next(due);
    std::unique_lock<std::mutex> lock(mu_);
    if (!op) {
      exhausted_ = true;
      if (Finished()) finished_.notify_all();
      return;
    }
    op->intended = due;  // a late start counts against the server
    due += absl::Seconds(1) / rate;
    if (active_ >= Window(op->intended)) {
      backlog_.push_back(*std::move(op));
      continue;
    }
    ++active_;
    lock.unlock();
    Start(*std::move(op));
  }
}

LoadRunner::Call* LoadRunner::NewCall() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_calls_.empty()) {
      Call* call = free_calls_.back();
      free_calls_.pop_back();
      return call;
    }
  }
  return new Call;
}

void LoadRunner::Recycle(Call* call) {
  std::lock_guard<std::mutex> lock(mu_);
  if (free_calls_.size() < static_cast<size_t>(config_.concurrency)) {
    free_calls_.push_back(call);
  } else {
    delete call;
  }
}

void LoadRunner::Start(Op op) {
  Call* call = NewCall();
  if (!call->request || call->kind != op.kind) {
    call->kind = op.kind;
    call->request = NewRequest(op.kind);
    call->response = NewResponse(op.kind);
  } else {
    call->request->Clear();
  }
  FillRequest(op, call->request.get());
  call->op = std::move(op);
  stats_->RecordStarted(absl::Now());
  Issue(call);
}

// The method each operation calls, as HTTP/2 paths (for the h2c engine).
const char* MethodPath(OpKind kind) {
  switch (kind) {
    case OpKind::kCreate:
      return "/devcard.card.v1.CardService/CreateCard";
    case OpKind::kSetDefault:
      return "/devcard.card.v1.CardService/SetDefaultCard";
    case OpKind::kDelete:
      return "/devcard.card.v1.CardService/DeleteCard";
    case OpKind::kUpdateLinks:
      return "/devcard.card.v1.CardService/UpdateCard";
    case OpKind::kGet:
      return "/devcard.card.v1.CardService/GetCard";
    case OpKind::kList:
      return "/devcard.card.v1.CardService/ListCards";
    case OpKind::kCreateLink:
      return "/devcard.card.v1.CardService/CreatePlatformLink";
    case OpKind::kHealth:
      return "/grpc.health.v1.Health/Check";
  }
  return "";
}

void LoadRunner::OnH2cDone(void* arg, const grpc::Status& status) {
  Call* call = static_cast<Call*>(arg);
  call->runner->OnDone(call, status);
}

void LoadRunner::Issue(Call* call) {
  if (h2c_ != nullptr) {
    call->response->Clear();
    call->runner = this;
    call->channel = PickChannel();
    h2c_->Call(call->channel, MethodPath(call->op.kind), *call->request,
               call->response.get(), config_.timeout, &OnH2cDone, call);
    return;
  }
  call->context.emplace();
  call->context->set_deadline(absl::ToChronoTime(absl::Now() + config_.timeout));
  call->response->Clear();
  size_t index = PickChannel();
  call->channel = index;
  auto* async = card_stubs_[index]->async();
  auto done = [this, call](grpc::Status status) { OnDone(call, status); };
  grpc::ClientContext* context = &*call->context;
  google::protobuf::Message* request = call->request.get();
  google::protobuf::Message* response = call->response.get();
  switch (call->op.kind) {
    case OpKind::kCreate:
      async->CreateCard(context, static_cast<v1::CreateCardRequest*>(request),
                        static_cast<v1::Card*>(response), done);
      break;
    case OpKind::kSetDefault:
      async->SetDefaultCard(context, static_cast<v1::SetDefaultCardRequest*>(request),
                            static_cast<v1::Card*>(response), done);
      break;
    case OpKind::kDelete:
      async->DeleteCard(context, static_cast<v1::DeleteCardRequest*>(request),
                        static_cast<google::protobuf::Empty*>(response), done);
      break;
    case OpKind::kUpdateLinks:
      async->UpdateCard(context, static_cast<v1::UpdateCardRequest*>(request),
                        static_cast<v1::Card*>(response), done);
      break;
    case OpKind::kGet:
      async->GetCard(context, static_cast<v1::GetCardRequest*>(request),
                     static_cast<v1::Card*>(response), done);
      break;
    case OpKind::kList:
      async->ListCards(context, static_cast<v1::ListCardsRequest*>(request),
                       static_cast<v1::ListCardsResponse*>(response), done);
      break;
    case OpKind::kCreateLink:
      async->CreatePlatformLink(context,
                                static_cast<v1::CreatePlatformLinkRequest*>(request),
                                static_cast<v1::PlatformLink*>(response), done);
      break;
    case OpKind::kHealth:
      health_stubs_[index]->async()->Check(
          context, static_cast<health::HealthCheckRequest*>(request),
          static_cast<health::HealthCheckResponse*>(response), done);
      break;
  }
}

// Whether to send on channel `index` now. Only a suspect channel pays for a
// connectivity-state lookup (a channel lock); it is trusted again once READY.
bool LoadRunner::Usable(size_t index) {
  if (h2c_ != nullptr) return h2c_->Healthy(index);
  if (!suspect_[index].load(std::memory_order_relaxed)) return true;
  if (channels_[index]->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY) {
    return false;
  }
  suspect_[index].store(false, std::memory_order_relaxed);
  return true;
}

// Round robin over the channels, passing over any whose connection is down
// (a killed replica), so calls land on a live one.
size_t LoadRunner::PickChannel() {
  size_t count = h2c_ != nullptr ? h2c_->connections() : channels_.size();
  size_t start = next_stub_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < count; ++i) {
    size_t index = (start + i) % count;
    if (Usable(index)) return index;
  }
  return start % count;
}

void LoadRunner::OnDone(Call* call, const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && h2c_ == nullptr) {
    suspect_[call->channel].store(true, std::memory_order_relaxed);
  }
  if (!status.ok() && call->op.attempt < config_.max_retries &&
      Workload::Retryable(call->op, status)) {
    ++call->op.attempt;
    stats_->RecordAttemptRetried(call->op.kind);
    {
      std::lock_guard<std::mutex> lock(timer_mu_);
      retries_.emplace(absl::Now() + Backoff(call->op.attempt), call);
    }
    timer_wake_.notify_one();
    return;
  }
  Workload::Outcome outcome = workload_->Finish(
      call->op, status, status.ok() ? ResultId(call->op, *call->response) : "");
  absl::Time now = absl::Now();
  stats_->RecordFinal(call->op.kind, status, outcome, now - call->op.intended, now);
  call->context.reset();
  // Closed loop with a fixed window: the finished call's slot, and the call
  // itself, go straight to the next operation, without the runner's lock.
  if (!config_.open_loop() && config_.window.constant()) {
    std::optional<Op> next = workload_->Next(now);
    if (next) {
      next->intended = now;
      if (call->kind == next->kind) {
        call->request->Clear();
      } else {
        call->kind = next->kind;
        call->request = NewRequest(next->kind);
        call->response = NewResponse(next->kind);
      }
      FillRequest(*next, call->request.get());
      call->op = *std::move(next);
      stats_->RecordStarted(now);
      Issue(call);
      return;
    }
    delete call;
    std::lock_guard<std::mutex> lock(mu_);
    exhausted_ = true;
    --active_;
    if (Finished()) finished_.notify_all();
    return;
  }
  Recycle(call);
  Release();
}

// Gives the finished operation's slot to the next one.
void LoadRunner::Release() {
  if (config_.open_loop()) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!backlog_.empty() && active_ <= Window(absl::Now())) {
      Op next = std::move(backlog_.front());
      backlog_.pop_front();
      lock.unlock();
      Start(std::move(next));
      return;
    }
    --active_;
    if (Finished()) finished_.notify_all();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    --active_;
  }
  Fill();
}

void LoadRunner::TimerLoop() {
  std::unique_lock<std::mutex> lock(timer_mu_);
  while (!stopping_) {
    if (retries_.empty()) {
      timer_wake_.wait(lock);
      continue;
    }
    absl::Time due = retries_.begin()->first;
    if (absl::Now() < due) {
      timer_wake_.wait_for(lock, absl::ToChronoNanoseconds(due - absl::Now()));
      continue;
    }
    Call* call = retries_.begin()->second;
    retries_.erase(retries_.begin());
    lock.unlock();
    Issue(call);
    lock.lock();
  }
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
      std::unique_lock<std::mutex> lock(mu_);
      done = finished_.wait_for(lock, absl::ToChronoNanoseconds(wake - absl::Now()),
                                [this] { return Finished(); });
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
