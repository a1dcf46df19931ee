// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The listener self-check (issue 19): every `interval`, a fresh connection to
// the server's own listening address must be answered. gRPC 1.51 (Debian)
// stops accepting for good after one accept4 EMFILE (CVE-2023-4785) while
// calls on open connections, health included, keep working; only a new
// connection notices. When checks have failed continuously for `give_up_after`,
// `on_stuck` runs once (on the check's thread) and checking stops.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/rate_limited_log.h"
#include "server/exec/periodic_task.h"

namespace card {

// Where and how to knock.
struct ListenerProbeTarget {
  // "unix:PATH" / "unix://PATH", or the TCP listen address ("host:port",
  // "[v6]:port"); a wildcard host is reached on loopback.
  std::string listen;
  int port = 0;  // The bound port (the listen address may say 0).
  // TLS: the check cannot speak HTTP/2 before a handshake. It half-closes
  // instead and counts the server closing (or any byte) as an answer.
  bool tls = false;
};

enum class ProbeResult {
  kAnswered,        // The listener accepted and the server answered.
  kNoAnswer,        // Refused, or connected but nothing came back in time.
  kNoOwnDescriptor  // This process could not open a socket (EMFILE/ENFILE):
                    // says nothing about the listener.
};

// Where `target` is reached from this host: a sockaddr in bytes, resolved
// once. INVALID_ARGUMENT for an address the check cannot reach
// (unix-abstract:, a name that does not resolve).
class ListenerAddress {
 public:
  static absl::StatusOr<ListenerAddress> Resolve(const ListenerProbeTarget& target);
  std::string description;  // For log lines.
  std::string sockaddr_bytes;
  int family = 0;
};

// One check: non-blocking connect, send, poll for the answer; at most
// `timeout` in all, and within 100 ms of `*stop` turning true (kNoAnswer);
// the socket is always closed.
ProbeResult ProbeListener(const ListenerAddress& address, bool tls,
                          absl::Duration timeout,
                          const std::atomic<bool>* stop = nullptr);

class ListenerCheck {
 public:
  struct Options {
    absl::Duration interval = absl::Seconds(1);
    absl::Duration timeout = absl::Seconds(2);  // One check.
    absl::Duration give_up_after = absl::Seconds(10);
  };
  // The first check is one interval from now.
  ListenerCheck(ListenerAddress address, bool tls, Options options,
                std::function<void()> on_stuck);
  ~ListenerCheck() { Stop(); }

  // No check (nor on_stuck) runs after this; a check in progress is cut
  // short, so that shutdown does not wait for its timeout.
  void Stop() {
    stop_ = true;
    task_->Stop();
  }

  // Checks that got no answer so far (for metrics; any thread).
  int64_t failures() const { return failures_.load(); }

 private:
  void CheckOnce();

  const ListenerAddress address_;
  const bool tls_;
  const Options options_;
  const std::function<void()> on_stuck_;
  std::atomic<int64_t> failures_{0};
  std::atomic<bool> stop_{false};
  // Only the task's thread reads and writes these (runs never overlap).
  absl::Time failing_since_ = absl::InfiniteFuture();
  bool gave_up_ = false;
  RateLimitedLog limited_log_;
  std::unique_ptr<PeriodicTask> task_;
};

}  // namespace card
