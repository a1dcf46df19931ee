// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Many unary RPCs in flight at once through gRPC's callback API (no thread per
// call): start them all, then Wait() for every completion.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "grpcpp/grpcpp.h"

namespace card::testing {

class InFlight {
 public:
  explicit InFlight(std::chrono::seconds timeout = std::chrono::seconds(60))
      : deadline_(std::chrono::system_clock::now() + timeout) {}

  // `method(context, request, response, callback)` starts the call, e.g.
  //   [&](auto... a) { stub->async()->CreateCard(a...); }
  // `done(status, response)` runs on a gRPC thread when it completes; calls to
  // `done` are serialised by this class.
  template <typename Request, typename Response, typename Method>
  void Start(Method method, Request request,
             std::function<void(const grpc::Status&, const Response&)> done) {
    auto call = std::make_shared<Call<Request, Response>>();
    call->request = std::move(request);
    call->context.set_deadline(deadline_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++pending_;
      keep_alive_.push_back(call);  // Contexts outlive their calls.
    }
    method(&call->context, &call->request, &call->response,
           [this, call = call.get(), done = std::move(done)](grpc::Status status) {
             std::lock_guard<std::mutex> lock(mu_);
             done(status, call->response);
             if (--pending_ == 0) all_done_.notify_all();
           });
  }

  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    all_done_.wait(lock, [this] { return pending_ == 0; });
  }

  ~InFlight() { Wait(); }

 private:
  template <typename Request, typename Response>
  struct Call {
    grpc::ClientContext context;
    Request request;
    Response response;
  };

  const std::chrono::system_clock::time_point deadline_;
  std::mutex mu_;
  std::condition_variable all_done_;
  size_t pending_ = 0;
  std::vector<std::shared_ptr<void>> keep_alive_;
};

}  // namespace card::testing
