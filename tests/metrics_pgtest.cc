// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The metrics endpoint (--metrics_listen) of a real server on a real database,
// read over HTTP as Prometheus reads it: every method's series exist before any
// call, each call is counted once with its code, a mutation reports how long it
// waited for its user's lock, a unique violation counts as a backstop violation.
// (A real Prometheus scraping a card-stress run: tests/metrics/.) Clients that
// connect and send half a request, or nothing, do not hold up scrapes (with
// CARD_TEST_SABOTAGE=old-metrics-exposer, the old Exposer(listen, 2), they
// do: a ctest negative control); a non-loopback --metrics_listen needs
// --allow_insecure_metrics_listen. Messages in and out are counted as they
// really went; the process_* metrics describe the card-server process.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "server/observability/grpc_codes.h"
#include "tests/support/health.h"
#include "tests/support/pg_environment.h"
#include "tests/support/ports.h"
#include "tests/support/processes.h"
#include "tests/support/server_fixture.h"
#include "tests/support/user_lock.h"

namespace card::testing {
namespace {

constexpr char kCards[] = "devcard.card.v1.CardService";

// A TCP connection to 127.0.0.1:`port` whose connect, reads and writes each
// give up after 10 s; -1 (and a test failure) if it cannot connect.
int ConnectToMetrics(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));  // and connect
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ADD_FAILURE() << "cannot connect to the metrics port " << port << ": "
                  << strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

// Whether 127.0.0.1:`port` accepts a connection within `bound` (a test failure if not).
bool MetricsPortOpensWithin(int port, absl::Duration bound) {
  absl::Time deadline = absl::Now() + bound;
  while (absl::Now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool open = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(fd);
    if (open) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ADD_FAILURE() << "the metrics port " << port << " did not open within " << bound;
  return false;
}

// GET /metrics on 127.0.0.1:`port` (HTTP/1.0: the server closes when done).
// Gives up after 10 s without a byte.
std::string Scrape(int port) {
  int fd = ConnectToMetrics(port);
  if (fd < 0) return "";
  std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  EXPECT_EQ(write(fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[65536];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
  close(fd);
  size_t body = response.find("\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.", 0), 0u) << response.substr(0, 200);
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// The value of the series `name{labels}` (labels as the server prints them:
// sorted by name), or -1 if the scrape does not have it.
double Value(const std::string& scrape, const std::string& series) {
  std::string prefix = series + " ";
  for (absl::string_view line : absl::StrSplit(scrape, '\n')) {
    if (line.substr(0, prefix.size()) == prefix) {
      return std::strtod(std::string(line.substr(prefix.size())).c_str(), nullptr);
    }
  }
  return -1;
}

std::string Handled(const std::string& method, const std::string& code,
                    const std::string& service = kCards) {
  return absl::StrCat("grpc_server_handled_total{grpc_code=\"", code, "\",grpc_method=\"",
                      method, "\",grpc_service=\"", service, "\",grpc_type=\"unary\"}");
}
std::string Started(const std::string& method, const std::string& service = kCards) {
  return absl::StrCat("grpc_server_started_total{grpc_method=\"", method,
                      "\",grpc_service=\"", service, "\",grpc_type=\"unary\"}");
}
// grpc_server_msg_received_total or grpc_server_msg_sent_total of a method.
std::string Messages(const std::string& direction, const std::string& method,
                     const std::string& service = kCards,
                     const std::string& type = "unary") {
  return absl::StrCat("grpc_server_msg_", direction, "_total{grpc_method=\"", method,
                      "\",grpc_service=\"", service, "\",grpc_type=\"", type, "\"}");
}

// Scrapes `port` until `series` reads `wanted` or `bound` passes; the last
// value read. A message's send is counted when gRPC completes it, which may be
// just after the client already has the answer.
double ValueOnceSettled(int port, const std::string& series, double wanted,
                        absl::Duration bound = absl::Seconds(5)) {
  absl::Time give_up = absl::Now() + bound;
  double value = Value(Scrape(port), series);
  while (value != wanted && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
    value = Value(Scrape(port), series);
  }
  return value;
}

class MetricsTest : public CardServerTest {
 protected:
  void Configure(app::ServerConfig& options) override {
    options.observability.metrics_listen = "127.0.0.1:0";
    const char* sabotage = std::getenv("CARD_TEST_SABOTAGE");
    options.observability.metrics_exposer_defaults_for_test =
        sabotage != nullptr && std::string(sabotage) == "old-metrics-exposer";
    options.observability.build.version = "test-version";
    options.database.repository.pool_size = options.scheduler.workers = 4;
  }
  std::string ScrapeNow() { return Scrape(server_->metrics_port()); }
};

TEST_F(MetricsTest, EveryMethodOfEveryServedServiceIsThereAtZeroBeforeAnyCall) {
  std::string scrape = ScrapeNow();
  const google::protobuf::ServiceDescriptor* cards =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(kCards);
  ASSERT_NE(cards, nullptr);
  for (int i = 0; i < cards->method_count(); ++i) {
    const std::string& method = cards->method(i)->name();
    EXPECT_EQ(Value(scrape, Started(method)), 0) << method;
    for (const char* code : {"OK", "InvalidArgument", "NotFound", "Unavailable",
                             "PermissionDenied", "Unauthenticated"}) {
      EXPECT_EQ(Value(scrape, Handled(method, code)), 0) << method << " " << code;
    }
    EXPECT_EQ(Value(scrape, Messages("received", method)), 0) << method;
    EXPECT_EQ(Value(scrape, Messages("sent", method)), 0) << method;
    EXPECT_EQ(
        Value(scrape,
              absl::StrCat("grpc_server_handling_seconds_count{grpc_method=\"", method,
                           "\",grpc_service=\"", kCards, "\",grpc_type=\"unary\"}")),
        0)
        << method;
  }
  EXPECT_EQ(Value(scrape, Started("Check", "grpc.health.v1.Health")), 0);
  EXPECT_EQ(Value(scrape,
                  "grpc_server_started_total{grpc_method=\"Watch\",grpc_service="
                  "\"grpc.health.v1.Health\",grpc_type=\"server_stream\"}"),
            0);
  EXPECT_EQ(Value(scrape, "card_server_backstop_violations_total"), 0);
  EXPECT_EQ(Value(scrape, "card_server_health_serving"), 1);
  EXPECT_EQ(Value(scrape, "card_server_db_connections_max"), 4);
  EXPECT_GE(Value(scrape,
                  "card_server_build_info{commit=\"unknown\",version=\"test-"
                  "version\"}"),
            1);
}

TEST_F(MetricsTest, EachCallIsCountedOnceWithItsCode) {
  v1::Card card;
  ASSERT_TRUE(Create("counted", "One", &card).ok());
  ASSERT_TRUE(Create("counted", "Two", &card).ok());
  EXPECT_EQ(Create("", "No user", &card).error_code(), StatusCode::INVALID_ARGUMENT);
  v1::GetCardRequest get;
  get.set_user_id("counted");
  get.set_card_id("00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(stub_->GetCard(Context().get(), get, &card).error_code(),
            StatusCode::NOT_FOUND);
  ASSERT_EQ(HealthOf(NewChannel(3)), kServing);

  std::string scrape = ScrapeNow();
  EXPECT_EQ(Value(scrape, Started("CreateCard")), 3);
  EXPECT_EQ(Value(scrape, Handled("CreateCard", "OK")), 2);
  EXPECT_EQ(Value(scrape, Handled("CreateCard", "InvalidArgument")), 1);
  EXPECT_EQ(Value(scrape, Handled("GetCard", "NotFound")), 1);
  EXPECT_EQ(Value(scrape, Handled("GetCard", "OK")), 0);
  EXPECT_EQ(Value(scrape, Handled("Check", "OK", "grpc.health.v1.Health")), 1);
  EXPECT_EQ(Value(scrape,
                  "grpc_server_handling_seconds_count{grpc_method=\"CreateCard\","
                  "grpc_service=\"devcard.card.v1.CardService\",grpc_type=\"unary\"}"),
            3);
  // Three requests joined queues that were empty, besides the invalid one
  // (refused before queueing) and the health check (not queued).
  EXPECT_EQ(Value(scrape, "card_server_user_queue_depth_count"), 3);
}

// A unary call that arrives has one message in; only an OK answer carries a
// message out (an error status has none).
TEST_F(MetricsTest, MessagesAreCountedAsTheyReallyWent) {
  v1::Card card;
  ASSERT_TRUE(Create("messages", "One", &card).ok());
  ASSERT_TRUE(Create("messages", "Two", &card).ok());
  EXPECT_EQ(Create("", "No user", &card).error_code(), StatusCode::INVALID_ARGUMENT);
  v1::GetCardRequest get;
  get.set_user_id("messages");
  get.set_card_id("00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(stub_->GetCard(Context().get(), get, &card).error_code(),
            StatusCode::NOT_FOUND);
  get.set_card_id(card.id());
  ASSERT_TRUE(stub_->GetCard(Context().get(), get, &card).ok());
  ASSERT_EQ(HealthOf(NewChannel(3)), kServing);

  const int port = server_->metrics_port();
  EXPECT_EQ(ValueOnceSettled(port, Messages("sent", "CreateCard"), 2), 2);
  EXPECT_EQ(ValueOnceSettled(port, Messages("sent", "GetCard"), 1), 1);
  EXPECT_EQ(ValueOnceSettled(port, Messages("sent", "Check", "grpc.health.v1.Health"), 1),
            1);
  std::string scrape = ScrapeNow();
  EXPECT_EQ(Value(scrape, Messages("received", "CreateCard")), 3);
  EXPECT_EQ(Value(scrape, Messages("received", "GetCard")), 2);
  EXPECT_EQ(Value(scrape, Messages("received", "Check", "grpc.health.v1.Health")), 1);
  EXPECT_EQ(Value(scrape, Messages("received", "ListCards")), 0);
  EXPECT_EQ(Value(scrape, Messages("sent", "ListCards")), 0);
}

// The caller gives up while the call waits for its user's lock: the request
// arrived, no answer left. The server finishes the call (counted as handled),
// yet sends no message.
TEST_F(MetricsTest, ACallCancelledBeforeItsAnswerSendsNoMessage) {
  v1::Card card;
  ASSERT_TRUE(Create("impatient", "First", &card).ok());
  pqxx::connection blocker(database_url_);
  std::unique_ptr<pqxx::work> held = HoldUserLock(blocker, "impatient");
  v1::SetDefaultCardRequest request;
  request.set_user_id("impatient");
  request.set_card_id(card.id());
  v1::Card out;
  EXPECT_EQ(stub_->SetDefaultCard(Context(absl::Milliseconds(300)).get(), request, &out)
                .error_code(),
            StatusCode::DEADLINE_EXCEEDED);

  // Wait until the server has finished the call (its status counted), then
  // give a send that would be counted time to be.
  const int port = server_->metrics_port();
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  double handled = 0;
  while (absl::Now() < give_up) {
    std::string scrape = Scrape(port);
    handled = 0;
    for (const char* code : observability::kGoCodeNames) {
      handled += Value(scrape, Handled("SetDefaultCard", code));
    }
    if (handled >= 1) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(handled, 1);
  absl::SleepFor(absl::Milliseconds(200));
  held->abort();
  std::string scrape = ScrapeNow();
  EXPECT_EQ(Value(scrape, Messages("received", "SetDefaultCard")), 1);
  EXPECT_EQ(Value(scrape, Messages("sent", "SetDefaultCard")), 0);
  EXPECT_EQ(Value(scrape, Messages("sent", "CreateCard")), 1);
}

TEST_F(MetricsTest, AMutationReportsHowLongItWaitedForItsUsersLock) {
  v1::Card card;
  ASSERT_TRUE(Create("waiter", "First", &card).ok());
  pqxx::connection blocker(database_url_);
  std::unique_ptr<pqxx::work> held = HoldUserLock(blocker, "waiter");
  std::future<grpc::Status> set_default = std::async(std::launch::async, [&] {
    v1::SetDefaultCardRequest request;
    request.set_user_id("waiter");
    request.set_card_id(card.id());
    v1::Card out;
    return stub_->SetDefaultCard(Context().get(), request, &out);
  });
  // Once the server's statement waits for the lock, hold it 300 ms more.
  absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (Query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
             .empty() &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::SleepFor(absl::Milliseconds(300));
  held->abort();  // releases the lock
  ASSERT_TRUE(set_default.get().ok());

  // Two mutations: the create, which took the lock at once (0 s), and the
  // set-default, which waited.
  std::string scrape = ScrapeNow();
  EXPECT_EQ(Value(scrape, "card_server_lock_wait_seconds_count"), 2);
  double waited = Value(scrape, "card_server_lock_wait_seconds_sum");
  EXPECT_GE(waited, 0.3);
  EXPECT_LT(waited, 5);
  EXPECT_EQ(Value(scrape, "card_server_lock_wait_seconds_bucket{le=\"0.25\"}"), 1);
  EXPECT_EQ(Value(scrape, "card_server_lock_wait_seconds_bucket{le=\"10\"}"), 2);
}

TEST_F(MetricsTest, AUniqueViolationCountsAsABackstopViolation) {
  // Stand-in for a locking bug: the function behind DeletePlatformLink fails
  // the way a write that slipped past the lock would.
  Query(R"sql(
    CREATE OR REPLACE FUNCTION card_delete_link(
        p_user_id text, p_link_id uuid, p_lock_timeout_ms integer)
      RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION USING ERRCODE = 'unique_violation', MESSAGE = 'test';
    END $$)sql");
  v1::DeletePlatformLinkRequest request;
  request.set_user_id("backstop");
  request.set_link_id("00000000-0000-0000-0000-000000000000");
  google::protobuf::Empty empty;
  EXPECT_EQ(stub_->DeletePlatformLink(Context().get(), request, &empty).error_code(),
            StatusCode::ABORTED);

  std::string scrape = ScrapeNow();
  EXPECT_EQ(Value(scrape, "card_server_backstop_violations_total"), 1);
  EXPECT_EQ(Value(scrape, "card_server_db_errors_total{sqlstate_class=\"23\"}"), 1);
  EXPECT_EQ(Value(scrape, Handled("DeletePlatformLink", "Aborted")), 1);
}

// Connections held open to the metrics port, closed when it goes.
struct HeldConnections {
  std::vector<int> fds;
  ~HeldConnections() {
    for (int fd : fds) close(fd);
  }
};

// 20 clients that sent the first line of a request and nothing more, 20 that
// sent nothing, all holding their connections: each scrape still answers in
// under a second. (The old Exposer(listen, 2) gave each of them a worker for
// civetweb's 30 s request timeout, two at a time: CARD_TEST_SABOTAGE=
// old-metrics-exposer, a ctest negative control, shows this test failing.)
TEST_F(MetricsTest, ScrapesAnswerInUnderASecondWhileSlowClientsHoldConnections) {
  const int port = server_->metrics_port();
  HeldConnections held;
  for (int i = 0; i < 40; ++i) {
    int fd = ConnectToMetrics(port);
    ASSERT_GE(fd, 0);
    held.fds.push_back(fd);
    if (i < 20) {
      std::string half = "GET /metrics HTTP/1.1\r\n";
      ASSERT_EQ(write(fd, half.data(), half.size()), static_cast<ssize_t>(half.size()));
    }
  }
  absl::SleepFor(absl::Milliseconds(200));  // accepted and handed to workers
  for (int i = 0; i < 5; ++i) {
    absl::Time start = absl::Now();
    std::string scrape = Scrape(port);
    absl::Duration took = absl::Now() - start;
    ASSERT_LT(took, absl::Seconds(1)) << "scrape " << i;
    EXPECT_EQ(Value(scrape, "card_server_health_serving"), 1) << "scrape " << i;
  }
}

// card-server as operators run it: plain HTTP metrics beyond loopback only
// with --allow_insecure_metrics_listen; without it start-up fails, naming it.
TEST(MetricsListen, ANonLoopbackAddressNeedsTheOptIn) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  std::string listen = absl::StrCat("127.0.0.1:", UnusedLoopbackPort());
  std::string refused = RunCommand(absl::StrCat(
      "timeout 20 ", CARD_SERVER_BINARY, " --listen=", listen, " --database_url='", url,
      "' --metrics_listen=0.0.0.0:0 2>&1; echo exit=$?"));
  EXPECT_NE(refused.find("--allow_insecure_metrics_listen"), std::string::npos)
      << refused;
  EXPECT_NE(refused.find("--metrics_listen"), std::string::npos) << refused;
  EXPECT_NE(refused.find("exit=1"), std::string::npos) << refused;

  int metrics_port = UnusedLoopbackPort();
  pid_t pid =
      Spawn({CARD_SERVER_BINARY, "--listen=" + listen, "--database_url=" + url,
             "--db_pool_size=2", absl::StrCat("--metrics_listen=0.0.0.0:", metrics_port),
             "--allow_insecure_metrics_listen"});
  bool serving = TimeUntilHealth(listen, kServing, absl::Seconds(20)) < absl::Seconds(20);
  EXPECT_TRUE(serving) << "server never became SERVING";
  // The metrics port opens just after the gRPC port, so health can answer first.
  if (serving && MetricsPortOpensWithin(metrics_port, absl::Seconds(10))) {
    EXPECT_EQ(Value(Scrape(metrics_port), "card_server_health_serving"), 1);
  }
  kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid, absl::Seconds(15)), 0);
}

// The process_* metrics of card-server as operators run it (its own process,
// a file descriptor limit set by the test): start time within the test's
// window, the limit the test set, descriptors and memory in range, CPU that
// grows under load.
TEST(ProcessMetrics, DescribeTheServerProcess) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  std::string listen = absl::StrCat("127.0.0.1:", UnusedLoopbackPort());
  int metrics_port = UnusedLoopbackPort();
  // /proc's start time is in clock ticks (10 ms) after boot, and boot time in
  // whole seconds: allow 1 s either side.
  double before = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()) - 1;
  // A soft limit of its own, which no default has (within the hard limit).
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  const rlim_t max_fds = std::min<rlim_t>(limit.rlim_max, 4000);
  pid_t pid = Spawn(
      {"/bin/sh", "-c",
       absl::StrCat("ulimit -n ", max_fds, " && exec ", CARD_SERVER_BINARY,
                    " --listen=", listen, " --database_url='", url,
                    "' --db_pool_size=2 --metrics_listen=127.0.0.1:", metrics_port)});
  bool serving = TimeUntilHealth(listen, kServing, absl::Seconds(20)) < absl::Seconds(20);
  ASSERT_TRUE(serving) << "server never became SERVING";
  ASSERT_TRUE(MetricsPortOpensWithin(metrics_port, absl::Seconds(10)));
  double after = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()) + 1;

  std::string first = Scrape(metrics_port);
  double started = Value(first, "process_start_time_seconds");
  EXPECT_GE(started, before);
  EXPECT_LE(started, after);
  EXPECT_EQ(Value(first, "process_max_fds"), static_cast<double>(max_fds));
  double open_fds = Value(first, "process_open_fds");
  EXPECT_GT(open_fds, 3);  // stdio, the listeners, the pool's connections
  EXPECT_LT(open_fds, static_cast<double>(max_fds));
  double rss = Value(first, "process_resident_memory_bytes");
  EXPECT_GT(rss, 1 << 20);  // a gRPC server with a pool is megabytes
  EXPECT_GE(Value(first, "process_virtual_memory_bytes"), rss);
  EXPECT_GT(Value(first, "process_threads"), 1);
  double cpu_before = Value(first, "process_cpu_seconds_total");
  EXPECT_GT(cpu_before, 0);

  // Load: creates until the server has used at least another 50 ms of CPU
  // (5 clock ticks), bounded by 2000 calls and 60 s on a shared machine.
  auto stub = v1::CardService::NewStub(
      grpc::CreateChannel(listen, grpc::InsecureChannelCredentials()));
  absl::Time give_up = absl::Now() + absl::Seconds(60);
  double cpu_after = cpu_before;
  for (int i = 0; i < 2000 && absl::Now() < give_up; ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::CreateCardRequest request;
    request.set_user_id(absl::StrCat("load-", i % 50));
    request.mutable_card()->set_title(absl::StrCat("Card ", i));
    v1::Card card;
    ASSERT_TRUE(stub->CreateCard(&context, request, &card).ok()) << "call " << i;
    if (i % 100 == 99) {
      cpu_after = Value(Scrape(metrics_port), "process_cpu_seconds_total");
      if (cpu_after >= cpu_before + 0.05) break;
    }
  }
  EXPECT_GE(cpu_after, cpu_before + 0.05);
  kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid, absl::Seconds(15)), 0);
}

}  // namespace
}  // namespace card::testing
