// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// H2cTransport against a target that never answers: its connects must not
// block the event loop, so another connection's calls still complete, and the
// stuck connection's calls end by their deadlines. No database: the working
// target is an in-process gRPC server with the default health service.
#include "stress/h2c_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace card::stress {
namespace {

constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";

// A loopback listener that accepts nothing unless told to. Once its accept
// queue is filled by connections of our own, a further connect gets no answer
// to its SYN and stays in progress, the way a black-holed address behaves.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    address_.sin_family = AF_INET;
    address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address_;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&address_), length) == 0 &&
        listen(fd_, 0) == 0) {
      getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &length);
    }
  }
  ~Listener() {
    for (int fd : fillers_) close(fd);
    close(fd_);
  }
  std::string target() const {
    return absl::StrCat("127.0.0.1:", ntohs(address_.sin_port));
  }

  // Connects to itself until a SYN goes unanswered; false if none did.
  bool FillBacklog() {
    for (int i = 0; i < 64; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      fillers_.push_back(fd);
      if (connect(fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) == 0)
        continue;
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, 200) == 0) return true;
    }
    return false;
  }

  // Accepts one connection (waiting up to 2 s) and closes it at once.
  bool AcceptOneAndClose() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 2000) != 1) return false;
    int fd = accept(fd_, nullptr, nullptr);
    if (fd < 0) return false;
    close(fd);
    return true;
  }

 private:
  int fd_ = -1;
  sockaddr_in address_{};
  std::vector<int> fillers_;
};

// grpc.health.v1.Health/Check answering SERVING.
class Serving final : public grpc::health::v1::Health::CallbackService {
  grpc::ServerUnaryReactor* Check(
      grpc::CallbackServerContext* context, const grpc::health::v1::HealthCheckRequest*,
      grpc::health::v1::HealthCheckResponse* response) override {
    response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// A real gRPC server speaking h2c, with grpc.health.v1 and nothing else.
class HealthServer {
 public:
  HealthServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~HealthServer() { server_->Shutdown(absl::ToChronoTime(absl::Now())); }
  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  Serving service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// The calls of one test: each records its status and when it ended.
class Calls {
 public:
  struct Result {
    Calls* calls = nullptr;
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status;
    absl::Time ended = absl::InfinitePast();
  };

  Calls(H2cTransport& transport, int count) : transport_(transport), results_(count) {
    for (Result& result : results_) result.calls = this;
  }

  void Start(int call, size_t connection, absl::Duration timeout) {
    transport_.Call(connection, kHealthCheck, grpc::health::v1::HealthCheckRequest(),
                    &results_[call].response, timeout, &Calls::Done, &results_[call]);
  }

  // True once every call has ended, false at `deadline`.
  bool WaitAll(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    auto all = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return ended_ == results_.size();
    };
    return mu_.AwaitWithDeadline(absl::Condition(&all), deadline);
  }

  const Result& operator[](int call) const { return results_[call]; }

 private:
  static void Done(void* arg, const grpc::Status& status) {
    auto* result = static_cast<Result*>(arg);
    absl::MutexLock lock(&result->calls->mu_);
    result->status = status;
    result->ended = absl::Now();
    ++result->calls->ended_;
  }

  H2cTransport& transport_;
  std::vector<Result> results_;
  absl::Mutex mu_;
  size_t ended_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(H2cTransportTest, TargetThatNeverAnswersStallsOnlyItsOwnCalls) {
  Listener black_hole;
  if (!black_hole.FillBacklog()) GTEST_SKIP() << "the kernel answered every SYN";
  HealthServer server;

  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<H2cTransport>> transport =
      H2cTransport::Connect({black_hole.target(), server.target()}, 1);
  ASSERT_TRUE(transport.ok()) << transport.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1)) << "Connect waited for the connects";
  constexpr size_t kStuck = 0, kWorking = 1;

  constexpr int kStuckCalls = 5, kWorkingCalls = 50;
  constexpr absl::Duration kStuckTimeout = absl::Milliseconds(800);
  Calls calls(**transport, kStuckCalls + kWorkingCalls);
  for (int i = 0; i < kStuckCalls; ++i) calls.Start(i, kStuck, kStuckTimeout);
  const absl::Time sent = absl::Now();
  for (int i = 0; i < kWorkingCalls; ++i) {
    calls.Start(kStuckCalls + i, kWorking, absl::Seconds(20));
  }
  ASSERT_TRUE(calls.WaitAll(absl::Now() + absl::Seconds(10)));

  for (int i = 0; i < kWorkingCalls; ++i) {
    const Calls::Result& result = calls[kStuckCalls + i];
    EXPECT_TRUE(result.status.ok()) << result.status.error_message();
    EXPECT_EQ(result.response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    // Well before the stuck connection's deadlines: nothing waited for it.
    EXPECT_LT(result.ended - sent, kStuckTimeout);
  }
  for (int i = 0; i < kStuckCalls; ++i) {
    EXPECT_EQ(calls[i].status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << calls[i].status.error_message();
    EXPECT_GE(calls[i].ended - start, kStuckTimeout);
    EXPECT_LT(calls[i].ended - start, kStuckTimeout + absl::Seconds(1));
  }
  EXPECT_FALSE((*transport)->Healthy(kStuck));
  EXPECT_TRUE((*transport)->Healthy(kWorking));
}

// The same once running: a connection is lost, and its target stops answering
// before the transport reconnects. The reconnect must not hold up the loop.
TEST(H2cTransportTest, ReconnectToTargetThatStoppedAnsweringStallsOnlyItsOwnCalls) {
  Listener listener;
  HealthServer server;
  absl::StatusOr<std::unique_ptr<H2cTransport>> transport =
      H2cTransport::Connect({listener.target(), server.target()}, 1);
  ASSERT_TRUE(transport.ok()) << transport.status();
  constexpr size_t kLost = 0, kWorking = 1;
  ASSERT_TRUE(listener.AcceptOneAndClose());
  const absl::Time closed = absl::Now();
  while ((*transport)->Healthy(kLost) && absl::Now() - closed < absl::Seconds(2)) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_FALSE((*transport)->Healthy(kLost)) << "the transport missed the close";
  if (!listener.FillBacklog()) GTEST_SKIP() << "the kernel answered every SYN";
  absl::SleepFor(absl::Milliseconds(1100));  // past the once-a-second reconnect limit

  constexpr int kWorkingCalls = 20;
  constexpr absl::Duration kLostTimeout = absl::Milliseconds(800);
  Calls calls(**transport, 1 + kWorkingCalls);
  const absl::Time sent = absl::Now();
  calls.Start(0, kLost, kLostTimeout);  // reconnects, to a target that never answers
  for (int i = 1; i <= kWorkingCalls; ++i) calls.Start(i, kWorking, absl::Seconds(20));
  ASSERT_TRUE(calls.WaitAll(absl::Now() + absl::Seconds(5)));
  for (int i = 1; i <= kWorkingCalls; ++i) {
    EXPECT_TRUE(calls[i].status.ok()) << calls[i].status.error_message();
    EXPECT_LT(calls[i].ended - sent, kLostTimeout);
  }
  EXPECT_EQ(calls[0].status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << calls[0].status.error_message();
  EXPECT_LT(calls[0].ended - sent, kLostTimeout + absl::Seconds(1));
}

TEST(H2cTransportTest, WaitConnectedNamesTheTargetThatNeverAnswers) {
  Listener black_hole;
  if (!black_hole.FillBacklog()) GTEST_SKIP() << "the kernel answered every SYN";
  HealthServer server;
  absl::StatusOr<std::unique_ptr<H2cTransport>> transport =
      H2cTransport::Connect({server.target(), black_hole.target()}, 1);
  ASSERT_TRUE(transport.ok()) << transport.status();
  const absl::Time start = absl::Now();
  absl::Status ready = (*transport)->WaitConnected(start + absl::Milliseconds(300));
  EXPECT_EQ(ready.code(), absl::StatusCode::kDeadlineExceeded) << ready;
  EXPECT_NE(ready.message().find(black_hole.target()), std::string::npos) << ready;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(H2cTransportTest, WaitConnectedIsOkWhenEveryTargetAnswers) {
  HealthServer server;
  absl::StatusOr<std::unique_ptr<H2cTransport>> transport =
      H2cTransport::Connect({server.target()}, 3);
  ASSERT_TRUE(transport.ok()) << transport.status();
  EXPECT_TRUE((*transport)->WaitConnected(absl::Now() + absl::Seconds(5)).ok());
}

TEST(H2cTransportTest, RefusedTargetFailsItsCallsAtOnce) {
  HealthServer server;
  int port = 0;
  {  // a port nobody listens on: bound, then closed
    Listener closed;
    port = std::stoi(closed.target().substr(closed.target().rfind(':') + 1));
  }
  absl::StatusOr<std::unique_ptr<H2cTransport>> transport =
      H2cTransport::Connect({absl::StrCat("127.0.0.1:", port), server.target()}, 1);
  ASSERT_TRUE(transport.ok()) << transport.status();
  Calls calls(**transport, 2);
  calls.Start(0, 0, absl::Seconds(20));
  calls.Start(1, 1, absl::Seconds(20));
  ASSERT_TRUE(calls.WaitAll(absl::Now() + absl::Seconds(5)));
  EXPECT_EQ(calls[0].status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(calls[1].status.ok()) << calls[1].status.error_message();
}

}  // namespace
}  // namespace card::stress
