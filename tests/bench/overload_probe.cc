// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// overload_probe: the hostile probes of issue "One user, one request or one
// frozen database never takes the service down", run together against one
// card-server process, while its memory is sampled. Run through
// tests/bench/overload-probe, which starts the server on a throwaway database.
//
//   overload_probe --target=HOST:PORT --database_url=URL --server_pid=PID
//
// At once: one user's lock held from outside with 1,000 of its creates
// waiting; 8 clients listing a user of 1,000 cards x 50 links of 2 KB URLs
// with page_size=1000; 150 requests of 3.9 MB; 5,000 malformed requests; 200
// idle connections. Meanwhile another user's reads are timed. Prints the
// server's peak RSS (VmHWM) and the other user's latencies.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "devcard/card/v1/card_service.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "card-server address");
ABSL_FLAG(std::string, database_url, "", "the server's database (for the lock and data)");
ABSL_FLAG(int, server_pid, 0, "card-server's process id, for its memory");

namespace {

namespace v1 = devcard::card::v1;

std::string StatusLine(int pid, const std::string& key) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  }
  return "?";
}

std::shared_ptr<grpc::Channel> Channel(int index) {
  grpc::ChannelArguments args;
  args.SetInt("probe.channel", index);  // a connection of its own
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(absl::GetFlag(FLAGS_target),
                                   grpc::InsecureChannelCredentials(), args);
}

void SeedBigUser(pqxx::connection& conn) {
  pqxx::nontransaction txn(conn);
  txn.exec(R"sql(
    INSERT INTO platform_links (id, user_id, platform, username, url, create_time)
    SELECT gen_random_uuid(), 'big', 'site', 'name' || i,
           'https://example.com/' || repeat('x', 2000), now() + i * interval '1 ms'
    FROM generate_series(1, 50) AS i)sql");
  txn.exec(R"sql(
    INSERT INTO cards (id, user_id, title, description, slug, visibility, qr_enabled,
                       is_default, create_time, update_time)
    SELECT gen_random_uuid(), 'big', 'Card ' || i, '', 'big-' || i, 1, false, i = 1,
           now() + i * interval '1 ms', now()
    FROM generate_series(1, 1000) AS i)sql");
  txn.exec(R"sql(
    INSERT INTO card_links (user_id, card_id, link_id, position)
    SELECT c.user_id, c.id, l.id,
           row_number() OVER (PARTITION BY c.id ORDER BY l.create_time) - 1
    FROM cards c CROSS JOIN platform_links l WHERE c.user_id = 'big')sql");
}

// Runs `count` unary calls through `start` at once and waits for all.
template <class Start>
void AllAtOnce(int count, const Start& start) {
  std::atomic<int> left{count};
  absl::Notification done;
  for (int i = 0; i < count; ++i) {
    start(i, [&] {
      if (--left == 0) done.Notify();
    });
  }
  if (count > 0) done.WaitForNotification();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int pid = absl::GetFlag(FLAGS_server_pid);
  pqxx::connection sql(absl::GetFlag(FLAGS_database_url));
  SeedBigUser(sql);
  std::printf("server RSS before the probes: %s\n", StatusLine(pid, "VmRSS").c_str());

  // The other user, for latency.
  auto reader = v1::CardService::NewStub(Channel(0));
  {
    grpc::ClientContext context;
    v1::CreateCardRequest create;
    create.set_user_id("other");
    create.mutable_card()->set_title("Other");
    v1::Card card;
    reader->CreateCard(&context, create, &card);
  }

  pqxx::connection blocker(absl::GetFlag(FLAGS_database_url));
  pqxx::work lock(blocker);
  lock.exec("SELECT pg_advisory_xact_lock(hashtextextended('busy', 0))");

  std::atomic<bool> stop{false};
  std::vector<std::thread> probes;
  // 1,000 creates of the blocked user.
  probes.emplace_back([] {
    auto stub = v1::CardService::NewStub(Channel(1));
    v1::CreateCardRequest request;
    request.set_user_id("busy");
    request.mutable_card()->set_title("Waits");
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts(1000);
    std::vector<v1::Card> cards(1000);
    AllAtOnce(1000, [&](int i, auto done) {
      contexts[i] = std::make_unique<grpc::ClientContext>();
      contexts[i]->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      stub->async()->CreateCard(contexts[i].get(), &request, &cards[i],
                                [done](grpc::Status) { done(); });
    });
  });
  // 8 clients listing the big user, page after page.
  std::atomic<int64_t> largest_page{0};
  for (int c = 0; c < 8; ++c) {
    probes.emplace_back([&, c] {
      auto stub = v1::CardService::NewStub(Channel(10 + c));
      v1::ListCardsRequest request;
      request.set_user_id("big");
      request.set_page_size(1000);
      while (!stop) {
        grpc::ClientContext context;
        v1::ListCardsResponse page;
        if (!stub->ListCards(&context, request, &page).ok()) continue;
        int64_t bytes = page.ByteSizeLong();
        int64_t seen = largest_page;
        while (bytes > seen && !largest_page.compare_exchange_weak(seen, bytes)) {
        }
        request.set_page_token(page.next_page_token());
      }
    });
  }
  // 150 requests of 3.9 MB for the blocked user.
  std::atomic<int> oversized_refused{0};
  probes.emplace_back([&] {
    auto stub = v1::CardService::NewStub(Channel(2));
    v1::CreateCardRequest request;
    request.set_user_id("busy");
    request.mutable_card()->set_title(std::string(3'900'000, 'a'));
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts(150);
    std::vector<v1::Card> cards(150);
    AllAtOnce(150, [&](int i, auto done) {
      contexts[i] = std::make_unique<grpc::ClientContext>();
      contexts[i]->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      stub->async()->CreateCard(
          contexts[i].get(), &request, &cards[i], [&, done](grpc::Status status) {
            if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
              ++oversized_refused;
            }
            done();
          });
    });
  });
  // 5,000 malformed requests (invalid UTF-8 in card.title).
  std::atomic<int> malformed_invalid{0};
  probes.emplace_back([&] {
    grpc::GenericStub stub(Channel(3));
    const std::string bytes = std::string("\x0a\x05") + "evil" + "x" + "\x12\x04" +
                              std::string("\x1a\x02\xff\xfe", 4);
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts(5000);
    std::vector<grpc::ByteBuffer> responses(5000);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    AllAtOnce(5000, [&](int i, auto done) {
      contexts[i] = std::make_unique<grpc::ClientContext>();
      stub.UnaryCall(contexts[i].get(), "/devcard.card.v1.CardService/CreateCard",
                     grpc::StubOptions(), &request, &responses[i],
                     [&, done](grpc::Status status) {
                       if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
                         ++malformed_invalid;
                       }
                       done();
                     });
    });
  });
  // 200 idle connections.
  std::vector<std::shared_ptr<grpc::Channel>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(Channel(100 + i));
    idle.back()->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  }

  // Meanwhile, the other user's reads.
  absl::SleepFor(absl::Seconds(1));
  std::vector<absl::Duration> latencies;
  v1::GetDefaultCardRequest get;
  get.set_user_id("other");
  for (int i = 0; i < 200; ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::Card card;
    absl::Time start = absl::Now();
    grpc::Status status = reader->GetDefaultCard(&context, get, &card);
    latencies.push_back(status.ok() ? absl::Now() - start : absl::Seconds(5));
    absl::SleepFor(absl::Milliseconds(20));
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf("server RSS during the probes: %s (peak so far %s)\n",
              StatusLine(pid, "VmRSS").c_str(), StatusLine(pid, "VmHWM").c_str());
  stop = true;
  lock.commit();
  for (std::thread& probe : probes) probe.join();
  std::printf("other user's GetDefaultCard during the probes: p50 %s, p99 %s, max %s\n",
              absl::FormatDuration(latencies[100]).c_str(),
              absl::FormatDuration(latencies[197]).c_str(),
              absl::FormatDuration(latencies.back()).c_str());
  std::printf("largest ListCards page: %lld bytes\n",
              static_cast<long long>(largest_page.load()));
  std::printf("3.9 MB requests refused with RESOURCE_EXHAUSTED: %d of 150\n",
              oversized_refused.load());
  std::printf("malformed requests answered INVALID_ARGUMENT: %d of 5000\n",
              malformed_invalid.load());
  std::printf("server peak RSS (VmHWM) over the whole run: %s\n",
              StatusLine(pid, "VmHWM").c_str());
  return 0;
}
