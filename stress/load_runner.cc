#include "stress/load_runner.h"

#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/card_client.h"

namespace card::stress {

namespace v1 = devcard::card::v1;
namespace health = grpc::health::v1;

struct LoadRunner::Call {
  Op op;
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<google::protobuf::Message> request;
  std::unique_ptr<google::protobuf::Message> response;
};

namespace {

std::unique_ptr<google::protobuf::Message> RequestFor(const Op& op) {
  switch (op.kind) {
    case OpKind::kCreate: {
      auto request = std::make_unique<v1::CreateCardRequest>();
      request->set_user_id(op.user_id);
      request->mutable_card()->set_title("Stress card");
      request->mutable_card()->set_description(op.request_id);  // finds duplicates later
      request->set_request_id(op.request_id);
      return request;
    }
    case OpKind::kSetDefault: {
      auto request = std::make_unique<v1::SetDefaultCardRequest>();
      request->set_user_id(op.user_id);
      request->set_card_id(op.card_id);
      return request;
    }
    case OpKind::kDelete: {
      auto request = std::make_unique<v1::DeleteCardRequest>();
      request->set_user_id(op.user_id);
      request->set_card_id(op.card_id);
      return request;
    }
    case OpKind::kUpdateLinks: {
      auto request = std::make_unique<v1::UpdateCardRequest>();
      request->set_user_id(op.user_id);
      request->mutable_card()->set_id(op.card_id);
      request->mutable_update_mask()->add_paths("links");
      for (const std::string& id : op.link_ids) request->add_link_ids(id);
      return request;
    }
    case OpKind::kGet: {
      auto request = std::make_unique<v1::GetCardRequest>();
      request->set_user_id(op.user_id);
      request->set_card_id(op.card_id);
      return request;
    }
    case OpKind::kList: {
      auto request = std::make_unique<v1::ListCardsRequest>();
      request->set_user_id(op.user_id);
      return request;
    }
    case OpKind::kCreateLink: {
      auto request = std::make_unique<v1::CreatePlatformLinkRequest>();
      request->set_user_id(op.user_id);
      request->mutable_link()->set_platform("github");
      request->mutable_link()->set_username("stress");
      request->mutable_link()->set_url("https://example.com/stress");
      return request;
    }
    case OpKind::kHealth:
      return std::make_unique<health::HealthCheckRequest>();
  }
  return nullptr;
}

std::unique_ptr<google::protobuf::Message> ResponseFor(OpKind kind) {
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
                       Workload* workload, Stats* stats)
    : config_(config),
      channels_(std::move(channels)),
      workload_(workload),
      stats_(stats) {
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

void LoadRunner::Run() {
  start_ = absl::Now();
  std::thread progress;
  if (config_.progress) progress = std::thread([this] { ProgressLoop(); });
  std::thread pacer;
  if (config_.rps > 0) {
    pacer = std::thread([this] { PaceLoop(); });
  } else {
    Fill();
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    finished_.wait(lock,
                   [this] { return exhausted_ && active_ == 0 && backlog_.empty(); });
  }
  elapsed_ = absl::Now() - start_;
  if (pacer.joinable()) pacer.join();
  if (progress.joinable()) progress.join();
}

// Starts operations until the window is full. RPCs are started outside the
// lock: a callback may run inline and come back here.
void LoadRunner::Fill() {
  std::vector<Op> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!exhausted_ && active_ < config_.concurrency) {
      absl::Time now = absl::Now();
      std::optional<Op> op = workload_->Next(now);
      if (!op) {
        exhausted_ = true;
        break;
      }
      op->intended = now;
      ++active_;
      due.push_back(*std::move(op));
    }
    if (exhausted_ && active_ == 0) finished_.notify_all();
  }
  for (Op& op : due) Start(std::move(op));
}

void LoadRunner::PaceLoop() {
  const absl::Duration interval = absl::Seconds(1) / config_.rps;
  for (int64_t i = 0;; ++i) {
    absl::Time due = start_ + interval * i;
    absl::SleepFor(due - absl::Now());
    std::optional<Op> op = workload_->Next(due);
    std::unique_lock<std::mutex> lock(mu_);
    if (!op) {
      exhausted_ = true;
      if (active_ == 0 && backlog_.empty()) finished_.notify_all();
      return;
    }
    op->intended = due;  // a late start counts against the server
    if (active_ >= config_.concurrency) {
      backlog_.push_back(*std::move(op));
      continue;
    }
    ++active_;
    lock.unlock();
    Start(*std::move(op));
  }
}

void LoadRunner::Start(Op op) {
  auto* call = new Call;
  call->request = RequestFor(op);
  call->op = std::move(op);
  Issue(call);
}

void LoadRunner::Issue(Call* call) {
  call->context = std::make_unique<grpc::ClientContext>();
  call->context->set_deadline(absl::ToChronoTime(absl::Now() + config_.timeout));
  call->response = ResponseFor(call->op.kind);
  size_t index = PickChannel();
  auto* async = card_stubs_[index]->async();
  auto done = [this, call](grpc::Status status) { OnDone(call, status); };
  grpc::ClientContext* context = call->context.get();
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

// Round robin over the channels, passing over any whose connection is down
// (a killed replica), so retries land on a live one.
size_t LoadRunner::PickChannel() {
  size_t count = channels_.size();
  size_t start = next_stub_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < count; ++i) {
    size_t index = (start + i) % count;
    grpc_connectivity_state state = channels_[index]->GetState(/*try_to_connect=*/true);
    if (state != GRPC_CHANNEL_TRANSIENT_FAILURE && state != GRPC_CHANNEL_SHUTDOWN)
      return index;
  }
  return start % count;
}

void LoadRunner::OnDone(Call* call, const grpc::Status& status) {
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
  stats_->RecordFinal(call->op.kind, status, outcome, absl::Now() - call->op.intended);
  delete call;
  Release();
}

// Gives the finished operation's slot to the next one.
void LoadRunner::Release() {
  if (config_.rps > 0) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!backlog_.empty()) {
      Op next = std::move(backlog_.front());
      backlog_.pop_front();
      lock.unlock();
      Start(std::move(next));
      return;
    }
    --active_;
    if (exhausted_ && active_ == 0) finished_.notify_all();
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

void LoadRunner::ProgressLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (finished_.wait_for(lock, std::chrono::seconds(1), [this] {
            return exhausted_ && active_ == 0 && backlog_.empty();
          })) {
        break;
      }
    }
    double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    uint64_t done = stats_->finished();
    std::fprintf(stderr, "\r[%5.1fs] %llu done, %.0f/s, %llu errors   ", seconds,
                 static_cast<unsigned long long>(done), done / std::max(seconds, 1e-9),
                 static_cast<unsigned long long>(stats_->errors()));
  }
  std::fprintf(stderr, "\n");
}

}  // namespace card::stress
