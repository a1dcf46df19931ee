// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The listener self-check (server/exec/listener_check.h) against small
// listeners of the test's own: one that answers like a gRPC server (SETTINGS
// first), one that never accepts (what gRPC 1.51 becomes after EMFILE), a
// closed port, a unix socket, TLS mode; every check bounded by its timeout.
#include "server/exec/listener_check.h"

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace card {
namespace {

constexpr absl::Duration kTimeout = absl::Milliseconds(300);

// A listening socket on loopback (or at a unix path) that accepts only when
// told to, answering each connection with `answer` and closing it.
class TestListener {
 public:
  enum class Mode { kNeverAccept, kSendSettings, kAcceptAndClose };

  TestListener(Mode mode, const std::string& unix_path = "") : mode_(mode) {
    if (unix_path.empty()) {
      fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
      socklen_t size = sizeof address;
      getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
      port_ = ntohs(address.sin_port);
    } else {
      unlink(unix_path.c_str());
      fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      snprintf(address.sun_path, sizeof address.sun_path, "%s", unix_path.c_str());
      EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    }
    EXPECT_EQ(listen(fd_, 16), 0);
    if (mode_ != Mode::kNeverAccept) thread_ = std::thread([this] { Serve(); });
  }
  ~TestListener() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);  // Wakes accept.
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  int port() const { return port_; }

 private:
  void Serve() {
    while (!stopping_) {
      int connection = accept(fd_, nullptr, nullptr);
      if (connection < 0) return;
      if (mode_ == Mode::kSendSettings) {
        // As gRPC does, the client's preface is read first: closing with it
        // unread would reset the connection before the client reads ours.
        char preface[33];
        size_t have = 0;
        while (have < sizeof preface) {
          ssize_t got = read(connection, preface + have, sizeof preface - have);
          if (got <= 0) break;
          have += static_cast<size_t>(got);
        }
        const char settings[] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
        EXPECT_EQ(write(connection, settings, sizeof settings), 9);
      }
      close(connection);
    }
  }

  const Mode mode_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

ListenerAddress Loopback(int port) {
  absl::StatusOr<ListenerAddress> address =
      ListenerAddress::Resolve({"127.0.0.1:0", port, false});
  EXPECT_TRUE(address.ok()) << address.status();
  return *address;
}

TEST(ListenerAddress, WildcardHostsAreReachedOnLoopback) {
  EXPECT_EQ(ListenerAddress::Resolve({"0.0.0.0:0", 5051, false})->description,
            "127.0.0.1:5051");
  EXPECT_EQ(ListenerAddress::Resolve({"[::]:50051", 50051, false})->description,
            "[::1]:50051");
  EXPECT_EQ(ListenerAddress::Resolve({":50051", 50051, false})->description,
            "127.0.0.1:50051");
  EXPECT_EQ(ListenerAddress::Resolve({"unix:///run/card.sock", 0, false})->description,
            "unix:///run/card.sock");
  EXPECT_FALSE(ListenerAddress::Resolve({"unix-abstract:card", 0, false}).ok());
}

TEST(ProbeListener, AServerSendingSettingsAnswers) {
  TestListener listener(TestListener::Mode::kSendSettings);
  EXPECT_EQ(ProbeListener(Loopback(listener.port()), false, kTimeout),
            ProbeResult::kAnswered);
}

TEST(ProbeListener, AListenerThatNeverAcceptsGetsNoAnswerWithinTheTimeout) {
  TestListener listener(TestListener::Mode::kNeverAccept);
  absl::Time start = absl::Now();
  EXPECT_EQ(ProbeListener(Loopback(listener.port()), false, kTimeout),
            ProbeResult::kNoAnswer);
  absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, kTimeout - absl::Milliseconds(10));
  EXPECT_LT(took, kTimeout + absl::Milliseconds(500));
}

TEST(ProbeListener, AClosedPortGetsNoAnswer) {
  int port = 0;
  { port = TestListener(TestListener::Mode::kNeverAccept).port(); }
  EXPECT_EQ(ProbeListener(Loopback(port), false, kTimeout), ProbeResult::kNoAnswer);
}

TEST(ProbeListener, AServerClosingWithoutSettingsIsNoAnswerInPlaintext) {
  TestListener listener(TestListener::Mode::kAcceptAndClose);
  EXPECT_EQ(ProbeListener(Loopback(listener.port()), false, kTimeout),
            ProbeResult::kNoAnswer);
}

TEST(ProbeListener, WithTlsAServerClosingIsAnAnswer) {
  TestListener closing(TestListener::Mode::kAcceptAndClose);
  EXPECT_EQ(ProbeListener(Loopback(closing.port()), true, kTimeout),
            ProbeResult::kAnswered);
  TestListener never(TestListener::Mode::kNeverAccept);
  EXPECT_EQ(ProbeListener(Loopback(never.port()), true, kTimeout),
            ProbeResult::kNoAnswer);
}

TEST(ProbeListener, UnixSocket) {
  std::string path = absl::StrCat(::testing::TempDir(), "/listener-check-", getpid());
  TestListener listener(TestListener::Mode::kSendSettings, path);
  for (const std::string& listen : {"unix:" + path, "unix://" + path}) {
    absl::StatusOr<ListenerAddress> address =
        ListenerAddress::Resolve({listen, 0, false});
    ASSERT_TRUE(address.ok()) << address.status();
    EXPECT_EQ(ProbeListener(*address, false, kTimeout), ProbeResult::kAnswered) << listen;
  }
  unlink(path.c_str());
}

TEST(ProbeListener, NoDescriptorOfItsOwnSaysNothingAboutTheListener) {
  TestListener listener(TestListener::Mode::kSendSettings);
  ListenerAddress address = Loopback(listener.port());
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit none = saved;
  none.rlim_cur = 3;  // stdin, stdout, stderr are open: socket() gets EMFILE.
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &none), 0);
  ProbeResult result = ProbeListener(address, false, kTimeout);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(result, ProbeResult::kNoOwnDescriptor);
}

TEST(ListenerCheck, GivesUpOnceAfterFailingForTheBound) {
  TestListener listener(TestListener::Mode::kNeverAccept);
  ListenerCheck::Options options;
  options.interval = absl::Milliseconds(50);
  options.timeout = absl::Milliseconds(100);
  options.give_up_after = absl::Milliseconds(400);
  std::atomic<int> stuck{0};
  absl::Notification gave_up;
  absl::Time start = absl::Now();
  ListenerCheck check(Loopback(listener.port()), false, options, [&] {
    if (++stuck == 1) gave_up.Notify();
  });
  ASSERT_TRUE(gave_up.WaitForNotificationWithTimeout(absl::Seconds(5)));
  absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, options.give_up_after);
  EXPECT_LT(took, absl::Seconds(2));
  absl::SleepFor(absl::Milliseconds(500));  // No second call, no more checks.
  check.Stop();
  EXPECT_EQ(stuck, 1);
  EXPECT_GE(check.failures(), 3);
}

TEST(ListenerCheck, AnAnsweringListenerNeverGivesUp) {
  TestListener listener(TestListener::Mode::kSendSettings);
  ListenerCheck::Options options;
  options.interval = absl::Milliseconds(20);
  options.timeout = absl::Milliseconds(200);
  options.give_up_after = absl::Milliseconds(100);
  std::atomic<int> stuck{0};
  ListenerCheck check(Loopback(listener.port()), false, options, [&] { ++stuck; });
  absl::SleepFor(absl::Milliseconds(600));
  check.Stop();
  EXPECT_EQ(stuck, 0);
  EXPECT_EQ(check.failures(), 0);
}

TEST(ListenerCheck, StopCutsACheckInProgressShort) {
  TestListener listener(TestListener::Mode::kNeverAccept);
  ListenerCheck::Options options;
  options.interval = absl::Milliseconds(10);
  options.timeout = absl::Seconds(30);
  ListenerCheck check(Loopback(listener.port()), false, options, [] {});
  absl::SleepFor(absl::Milliseconds(100));  // A check is waiting for its answer.
  absl::Time start = absl::Now();
  check.Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

}  // namespace
}  // namespace card
