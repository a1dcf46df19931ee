#include "support/burst.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace card::testing {

std::vector<CreateOutcome> CreateAllAtOnce(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const std::vector<devcard::card::v1::CreateCardRequest>& requests) {
  std::vector<std::unique_ptr<devcard::card::v1::CardService::Stub>> stubs;
  for (const auto& channel : channels) {
    channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
    stubs.push_back(devcard::card::v1::CardService::NewStub(channel));
  }
  std::vector<CreateOutcome> outcomes(requests.size());
  std::vector<grpc::ClientContext> contexts(requests.size());
  std::mutex mu;
  std::condition_variable all_done;
  size_t pending = requests.size();
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(60);
  for (size_t i = 0; i < requests.size(); ++i) {
    contexts[i].set_deadline(deadline);
    stubs[i % stubs.size()]->async()->CreateCard(
        &contexts[i], &requests[i], &outcomes[i].card, [&, i](grpc::Status status) {
          std::lock_guard<std::mutex> lock(mu);
          outcomes[i].status = std::move(status);
          if (--pending == 0) all_done.notify_one();
        });
  }
  std::unique_lock<std::mutex> lock(mu);
  all_done.wait(lock, [&] { return pending == 0; });
  return outcomes;
}

}  // namespace card::testing
