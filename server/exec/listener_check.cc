// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/exec/listener_check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "server/common/log.h"

namespace card {
namespace {

// RFC 9113 3.4: the client connection preface, then an empty SETTINGS frame
// (length 0, type 4, no flags, stream 0). A gRPC server answers with its own
// SETTINGS frame as soon as it has accepted the connection.
constexpr char kClientPreface[] =
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
constexpr size_t kClientPrefaceSize = sizeof(kClientPreface) - 1;  // 24 + 9
constexpr size_t kFrameHeaderSize = 9;
constexpr unsigned char kSettingsFrameType = 0x04;

// Closes the descriptor on every path out of ProbeListener.
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) close(fd_);
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

constexpr absl::Duration kStopLatency = absl::Milliseconds(100);

// Waits for `events` on `fd` until `deadline`; false on timeout, error or
// `*stop`.
bool PollUntil(int fd, short events, absl::Time deadline, const std::atomic<bool>* stop) {
  for (;;) {
    if (stop != nullptr && stop->load()) return false;
    const absl::Duration left = std::min(deadline - absl::Now(), kStopLatency);
    if (left <= absl::ZeroDuration()) return false;
    pollfd entry{fd, events, 0};
    const int ready =
        poll(&entry, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

// Splits "host:port" or "[v6]:port"; the port part is ignored (the bound
// port is known).
std::string HostOf(absl::string_view listen) {
  if (absl::StartsWith(listen, "[")) {
    size_t end = listen.find(']');
    return std::string(listen.substr(1, end == absl::string_view::npos ? end : end - 1));
  }
  size_t colon = listen.rfind(':');
  return std::string(listen.substr(0, colon));
}

}  // namespace

absl::StatusOr<ListenerAddress> ListenerAddress::Resolve(
    const ListenerProbeTarget& target) {
  ListenerAddress out;
  absl::string_view listen = target.listen;
  if (absl::StartsWith(listen, "unix-abstract:")) {
    return absl::InvalidArgumentError("abstract unix sockets are not checked");
  }
  if (absl::ConsumePrefix(&listen, "unix:")) {
    absl::ConsumePrefix(&listen, "//");  // unix:///abs/path
    sockaddr_un address{};
    if (listen.empty() || listen.size() >= sizeof address.sun_path) {
      return absl::InvalidArgumentError(absl::StrCat("bad unix socket path: ", listen));
    }
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, listen.data(), listen.size());
    out.family = AF_UNIX;
    out.sockaddr_bytes.assign(reinterpret_cast<const char*>(&address), sizeof address);
    out.description = std::string(target.listen);
    return out;
  }
  absl::ConsumePrefix(&listen, "dns:///");
  std::string host = HostOf(listen);
  // A wildcard listener is reached on loopback.
  if (host.empty() || host == "0.0.0.0" || host == "*") host = "127.0.0.1";
  if (host == "::") host = "::1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int error =
      getaddrinfo(host.c_str(), std::to_string(target.port).c_str(), &hints, &found);
  if (error != 0 || found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve ", host, ": ", gai_strerror(error)));
  }
  out.family = found->ai_family;
  out.sockaddr_bytes.assign(reinterpret_cast<const char*>(found->ai_addr),
                            found->ai_addrlen);
  freeaddrinfo(found);
  out.description = absl::StrCat(
      out.family == AF_INET6 ? absl::StrCat("[", host, "]") : host, ":", target.port);
  return out;
}

ProbeResult ProbeListener(const ListenerAddress& address, bool tls,
                          absl::Duration timeout, const std::atomic<bool>* stop) {
  const absl::Time deadline = absl::Now() + timeout;
  OwnedFd fd(socket(address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    return errno == EMFILE || errno == ENFILE ? ProbeResult::kNoOwnDescriptor
                                              : ProbeResult::kNoAnswer;
  }
  const auto* sockaddr_ptr =
      reinterpret_cast<const sockaddr*>(address.sockaddr_bytes.data());
  if (connect(fd.get(), sockaddr_ptr, address.sockaddr_bytes.size()) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) return ProbeResult::kNoAnswer;
    if (!PollUntil(fd.get(), POLLOUT, deadline, stop)) return ProbeResult::kNoAnswer;
    int error = 0;
    socklen_t size = sizeof error;
    if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0) {
      return ProbeResult::kNoAnswer;
    }
  }
  // A connection the listener never accepted still completes (the kernel
  // queues it) and takes these bytes; only an answer shows it was accepted.
  if (tls) {
    if (shutdown(fd.get(), SHUT_WR) != 0) return ProbeResult::kNoAnswer;
  } else if (send(fd.get(), kClientPreface, kClientPrefaceSize, MSG_NOSIGNAL) !=
             static_cast<ssize_t>(kClientPrefaceSize)) {
    return ProbeResult::kNoAnswer;
  }
  unsigned char header[kFrameHeaderSize];
  size_t have = 0;
  while (have < kFrameHeaderSize) {
    if (!PollUntil(fd.get(), POLLIN, deadline, stop)) return ProbeResult::kNoAnswer;
    const ssize_t got = recv(fd.get(), header + have, kFrameHeaderSize - have, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    // The TLS handshake ends at our half-close: the server closing, or
    // anything it sends, means it accepted the connection.
    if (tls) return got >= 0 ? ProbeResult::kAnswered : ProbeResult::kNoAnswer;
    if (got <= 0) return ProbeResult::kNoAnswer;
    have += static_cast<size_t>(got);
  }
  return header[3] == kSettingsFrameType ? ProbeResult::kAnswered
                                         : ProbeResult::kNoAnswer;
}

ListenerCheck::ListenerCheck(ListenerAddress address, bool tls, Options options,
                             std::function<void()> on_stuck)
    : address_(std::move(address)),
      tls_(tls),
      options_(options),
      on_stuck_(std::move(on_stuck)),
      limited_log_("listener self-check lines", /*lines_per_window=*/3,
                   absl::Minutes(1)) {
  task_ = std::make_unique<PeriodicTask>(options_.interval, [this] { CheckOnce(); });
}

void ListenerCheck::CheckOnce() {
  if (gave_up_) return;
  const ProbeResult result = ProbeListener(address_, tls_, options_.timeout, &stop_);
  if (stop_) return;  // Cut short: says nothing.
  const absl::Time now = absl::Now();
  if (result == ProbeResult::kAnswered) {
    if (failing_since_ != absl::InfiniteFuture()) {
      log::Info(absl::StrCat("listener self-check: ", address_.description,
                             " answers new connections again"));
    }
    failing_since_ = absl::InfiniteFuture();
    return;
  }
  if (result == ProbeResult::kNoOwnDescriptor) {
    // Out of descriptors ourselves: the listener is not tested, so neither a
    // failure nor a success; the clock of a failing episode keeps running.
    limited_log_.Warning(
        "listener self-check skipped: no descriptor for its own socket (the "
        "process is out of open files)");
    return;
  }
  ++failures_;
  if (failing_since_ == absl::InfiniteFuture()) {
    failing_since_ = now;
    limited_log_.Warning(absl::StrCat("listener self-check: a new connection to ",
                                      address_.description, " got no answer within ",
                                      absl::FormatDuration(options_.timeout)));
  }
  if (now - failing_since_ < options_.give_up_after) return;
  gave_up_ = true;
  log::Error(absl::StrCat(
      "listener self-check: new connections to ", address_.description,
      " unanswered for ", absl::FormatDuration(now - failing_since_),
      ": the listener stopped accepting new connections (gRPC 1.51 does not re-arm "
      "accept after EMFILE); exiting so the supervisor restarts the server"));
  on_stuck_();
}

}  // namespace card
