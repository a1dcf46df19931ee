// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/h2c_transport.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <unordered_map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace card::stress {
namespace {

constexpr size_t kMaxResponseBytes = 64 << 20;  // as the gRPC channels' limit
constexpr int32_t kWindow = (1 << 30) - 1;      // large windows: no WINDOW_UPDATE chatter
constexpr absl::Duration kReconnectEvery = absl::Seconds(1);
// A TCP connect not done by then is given up (its calls end UNAVAILABLE), as
// a gRPC channel would, instead of waiting minutes for the kernel's timeout.
constexpr absl::Duration kConnectTimeout = absl::Seconds(10);

// grpc-message is percent-encoded (gRPC's HTTP/2 protocol document).
std::string PercentDecode(const uint8_t* data, size_t size) {
  std::string out;
  out.reserve(size);
  for (size_t i = 0; i < size; ++i) {
    int value = 0;
    if (data[i] == '%' && i + 2 < size &&
        absl::SimpleHexAtoi(
            absl::string_view(reinterpret_cast<const char*>(data + i + 1), 2), &value)) {
      out.push_back(static_cast<char>(value));
      i += 2;
    } else {
      out.push_back(static_cast<char>(data[i]));
    }
  }
  return out;
}

std::string GrpcTimeout(absl::Duration timeout) {
  // At most 8 digits (the protocol's limit): milliseconds, else seconds.
  int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout));
  if (ms < 100'000'000) return absl::StrCat(ms, "m");
  return absl::StrCat(std::min<int64_t>(ms / 1000, 99'999'999), "S");
}

// Resolves host:port once, at start: a name lookup blocks, so the event loop
// never does one.
absl::StatusOr<std::vector<sockaddr_storage>> Resolve(const std::string& target) {
  size_t colon = target.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("h2c target needs host:port, got ", target));
  }
  std::string host = target.substr(0, colon), port = target.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", target, ": ", gai_strerror(rc)));
  }
  std::vector<sockaddr_storage> addresses;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage address{};
    memcpy(&address, a->ai_addr, a->ai_addrlen);
    addresses.push_back(address);
  }
  freeaddrinfo(found);
  if (addresses.empty()) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", target));
  }
  return addresses;
}

socklen_t AddressLength(const sockaddr_storage& address) {
  return address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

}  // namespace

// One call on the wire.
struct H2cTransport::Stream {
  uint64_t id = 0;  // unique per call: deadlines refer to calls, streams are reused
  Connection* connection = nullptr;
  int32_t stream_id = -1;
  std::string path;
  std::string body;  // 5-byte prefix + the serialized request
  size_t sent = 0;
  std::string received;
  google::protobuf::Message* response = nullptr;
  DoneFn done = nullptr;
  void* arg = nullptr;
  absl::Time deadline;
  std::string timeout;  // grpc-timeout header value
  int http_status = 0;
  int grpc_status = -1;
  std::string grpc_message;
  bool deadline_passed = false;
  bool too_large = false;
};

struct H2cTransport::Connection {
  size_t index = 0;
  std::string target;
  std::vector<sockaddr_storage> addresses;  // resolved once, at start
  size_t next_address = 0;                  // tried in turn, one per attempt
  int fd = -1;                              // >= 0 while connecting or up
  bool connecting = false;  // the TCP connect is in progress (EPOLLOUT pending)
  nghttp2_session* session = nullptr;  // set once connected
  bool want_out = false;               // EPOLLOUT registered
  std::string unsent;            // bytes nghttp2 produced that the socket has not taken
  std::vector<Stream*> waiting;  // calls made while connecting, sent once connected
  absl::Time last_attempt = absl::InfinitePast();
  bool tried = false;  // the first attempt has ended (connected or failed)
  std::atomic<bool> healthy{false};
};

class H2cTransport::Loop {
 public:
  Loop(const std::vector<std::string>& targets, int per_target) {
    for (int c = 0; c < per_target; ++c) {
      for (const std::string& target : targets) {
        auto connection = std::make_unique<Connection>();
        connection->index = connections_.size();
        connection->target = target;
        connections_.push_back(std::move(connection));
      }
    }
  }

  ~Loop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (wake_ >= 0) Wake();
    if (thread_.joinable()) thread_.join();
    for (auto& connection : connections_) Drop(*connection, "transport closed");
    for (Stream* stream : free_) delete stream;
    if (callbacks_ != nullptr) nghttp2_session_callbacks_del(callbacks_);
    if (epoll_ >= 0) close(epoll_);
    if (wake_ >= 0) close(wake_);
  }

  // Resolves every target, sets up the loop and starts every connection's
  // TCP connect without waiting for it; the loop completes them.
  absl::Status Start() {
    std::unordered_map<std::string, std::vector<sockaddr_storage>> resolved;
    for (auto& connection : connections_) {
      auto found = resolved.find(connection->target);
      if (found == resolved.end()) {
        absl::StatusOr<std::vector<sockaddr_storage>> addresses =
            Resolve(connection->target);
        if (!addresses.ok()) return addresses.status();
        found = resolved.emplace(connection->target, *std::move(addresses)).first;
      }
      connection->addresses = found->second;
    }
    if (int rc = nghttp2_session_callbacks_new(&callbacks_); rc != 0) {
      return absl::InternalError(absl::StrCat("nghttp2: ", nghttp2_strerror(rc)));
    }
    nghttp2_session_callbacks_set_on_header_callback(callbacks_, &Loop::OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks_, &Loop::OnData);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks_, &Loop::OnClose);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) return Errno("epoll_create1");
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_ < 0) return Errno("eventfd");
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = kWakeToken;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &event) != 0) return Errno("epoll_ctl");
    for (auto& connection : connections_) {
      std::string error;
      if (!Open(*connection, &error)) {  // its calls fail until a reconnect works
        connection->tried = true;
        absl::MutexLock lock(&mu_);
        if (first_error_.empty()) first_error_ = error;
      }
    }
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  // OK once every connection is up; the first failed connect's error, or
  // DEADLINE_EXCEEDED naming a connection still connecting at `deadline`.
  absl::Status WaitConnected(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    auto settled = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !first_error_.empty() || up_ == connections_.size();
    };
    mu_.AwaitWithDeadline(absl::Condition(&settled), deadline);
    if (!first_error_.empty()) return absl::UnavailableError(first_error_);
    if (up_ == connections_.size()) return absl::OkStatus();
    for (auto& connection : connections_) {
      if (!connection->healthy.load()) {
        return absl::DeadlineExceededError(
            absl::StrCat("cannot connect to ", connection->target, ": timed out"));
      }
    }
    return absl::OkStatus();
  }

  size_t size() const { return connections_.size(); }
  bool Healthy(size_t index) const { return connections_[index]->healthy.load(); }

  void Submit(Stream* stream) {
    if (on_loop_thread_ == this) {
      ready_.push_back(stream);  // submitted after the current read, before the write
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      incoming_.push_back(stream);
    }
    Wake();
  }

  Stream* NewStream() {
    {
      absl::MutexLock lock(&mu_);
      if (!free_.empty()) {
        Stream* stream = free_.back();
        free_.pop_back();
        return stream;
      }
    }
    return new Stream;
  }

  uint64_t NextId() { return next_id_.fetch_add(1, std::memory_order_relaxed); }
  Connection* connection(size_t index) { return connections_[index].get(); }

 private:
  static constexpr uint64_t kWakeToken = UINT64_MAX;
  static thread_local Loop* on_loop_thread_;

  static absl::Status Errno(const char* what) {
    return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
  }

  void Wake() {
    uint64_t one = 1;
    ssize_t ignored = write(wake_, &one, sizeof one);
    (void)ignored;
  }

  // Starts a non-blocking TCP connect to the connection's next address; the
  // loop finishes it on EPOLLOUT (Connected). False (and `error`) only if the
  // attempt failed at once.
  bool Open(Connection& c, std::string* error) {
    c.last_attempt = absl::Now();
    const sockaddr_storage& address = c.addresses[c.next_address++ % c.addresses.size()];
    int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *error = absl::StrCat("h2c socket: ", strerror(errno));
      return false;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address),
                AddressLength(address)) != 0 &&
        errno != EINPROGRESS) {
      *error = absl::StrCat("cannot connect to ", c.target, ": ", strerror(errno));
      close(fd);
      return false;
    }
    epoll_event event{};
    event.events = EPOLLOUT;
    event.data.u64 = c.index;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0) {
      *error = absl::StrCat("h2c epoll_ctl: ", strerror(errno));
      close(fd);
      return false;
    }
    c.fd = fd;
    c.connecting = true;
    c.want_out = true;
    return true;
  }

  // The TCP connect ended (EPOLLOUT or an error on the socket): sets up the
  // HTTP/2 session and sends the calls that waited for it, or drops the
  // connection (failing them) if the connect failed.
  void Connected(Connection& c) {
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) soerr = errno;
    if (soerr != 0) {
      Drop(c, absl::StrCat("cannot connect to ", c.target, ": ", strerror(soerr)));
      return;
    }
    c.connecting = false;
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                         {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kWindow}};
    int rc = nghttp2_session_client_new(&c.session, callbacks_, &c);
    if (rc != 0) {
      c.session = nullptr;
      Drop(c, absl::StrCat("nghttp2 session: ", nghttp2_strerror(rc)));
      return;
    }
    rc = nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, settings, 2);
    if (rc == 0) {
      rc =
          nghttp2_session_set_local_window_size(c.session, NGHTTP2_FLAG_NONE, 0, kWindow);
    }
    if (rc != 0) {
      Drop(c, absl::StrCat("nghttp2 settings: ", nghttp2_strerror(rc)));
      return;
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT;
    event.data.u64 = c.index;
    if (epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &event) != 0) {
      Drop(c, absl::StrCat("h2c epoll_ctl: ", strerror(errno)));
      return;
    }
    c.want_out = true;
    c.healthy = true;
    {
      absl::MutexLock lock(&mu_);
      ++up_;
    }
    c.tried = true;
    std::vector<Stream*> waiting;
    waiting.swap(c.waiting);
    for (Stream* stream : waiting) {
      if (c.session == nullptr) break;  // dropped: Drop ended the rest
      SubmitRequest(stream, c);
    }
    dirty_.push_back(&c);
  }

  // Ends every call on the connection (UNAVAILABLE: they may or may not have
  // reached the server) and closes it; it reopens on a later call.
  void Drop(Connection& c, const std::string& why) {
    if (c.fd < 0) return;
    if (c.healthy.exchange(false)) {
      absl::MutexLock lock(&mu_);
      --up_;
    } else if (!c.tried) {
      absl::MutexLock lock(&mu_);
      if (first_error_.empty()) first_error_ = why;
    }
    c.tried = true;
    nghttp2_session* session = c.session;
    c.session = nullptr;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);  // closing deregisters it anyway
    close(c.fd);
    c.fd = -1;
    c.connecting = false;
    c.unsent.clear();
    c.waiting.clear();
    std::vector<Stream*> open;
    for (auto& [id, stream] : by_id_) {
      if (stream->connection == &c) open.push_back(stream);
    }
    if (session != nullptr) nghttp2_session_del(session);  // no callbacks from here on
    for (Stream* stream : open) {
      Finish(stream, grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                  absl::StrCat("h2c connection lost: ", why)));
    }
  }

  void Finish(Stream* stream, const grpc::Status& status) {
    by_id_.erase(stream->id);
    DoneFn done = stream->done;
    void* arg = stream->arg;
    stream->received.clear();
    stream->grpc_message.clear();
    {
      absl::MutexLock lock(&mu_);
      free_.push_back(stream);
    }
    done(arg, status);
  }

  // A call reaches the loop: sent at once on a connection that is up, held
  // (until it connects or the call's deadline) on one that is connecting,
  // and a connection that is down is reopened, at most once a second.
  void StartCall(Stream* stream) {
    Connection& c = *stream->connection;
    by_id_.emplace(stream->id, stream);
    deadlines_.emplace_back(stream->deadline, stream->id);
    if (c.fd < 0) {
      std::string error = "down";
      if (absl::Now() - c.last_attempt < kReconnectEvery || !Open(c, &error)) {
        Finish(stream,
               grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            absl::StrCat("h2c connection to ", c.target, ": ", error)));
        return;
      }
    }
    if (c.connecting) {
      c.waiting.push_back(stream);
      return;
    }
    SubmitRequest(stream, c);
  }

  // Hands the call to the connection's HTTP/2 session.
  void SubmitRequest(Stream* stream, Connection& c) {
    auto header = [](const char* name, const std::string& value) {
      return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name)),
                        reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                        strlen(name), value.size(),
                        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
    };
    static const std::string kPost = "POST", kHttp = "http", kGrpc = "application/grpc",
                             kTrailers = "trailers", kAgent = "card-stress-h2c";
    const nghttp2_nv headers[] = {header(":method", kPost),
                                  header(":scheme", kHttp),
                                  header(":path", stream->path),
                                  header(":authority", c.target),
                                  header("content-type", kGrpc),
                                  header("te", kTrailers),
                                  header("grpc-timeout", stream->timeout),
                                  header("user-agent", kAgent)};
    nghttp2_data_provider body{};
    body.source.ptr = stream;
    body.read_callback = &Loop::ReadBody;
    int32_t id = nghttp2_submit_request(
        c.session, nullptr, headers, sizeof headers / sizeof headers[0], &body, stream);
    if (id < 0) {  // e.g. stream ids used up: start the connection afresh
      Finish(stream, grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                  absl::StrCat("h2c: ", nghttp2_strerror(id))));
      Drop(c, nghttp2_strerror(id));
      return;
    }
    stream->stream_id = id;
  }

  void Run() {
    on_loop_thread_ = this;
    std::vector<epoll_event> events(64);
    for (;;) {
      int wait_ms = 100;
      if (!deadlines_.empty()) {
        wait_ms = static_cast<int>(std::clamp<int64_t>(
            absl::ToInt64Milliseconds(deadlines_.front().first - absl::Now()) + 1, 0,
            100));
      }
      int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), wait_ms);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kWakeToken) {
          uint64_t count;
          ssize_t ignored = read(wake_, &count, sizeof count);
          (void)ignored;
          absl::MutexLock lock(&mu_);
          ready_.insert(ready_.end(), incoming_.begin(), incoming_.end());
          incoming_.clear();
          continue;
        }
        Connection& c = *connections_[events[i].data.u64];
        if (c.fd < 0) continue;
        if (c.connecting) {
          Connected(c);
          continue;
        }
        if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 && !Read(c))
          continue;
        dirty_.push_back(&c);
      }
      ExpireDeadlines();
      ExpireConnects();
      // Calls started by completions (closed loop) or other threads.
      while (!ready_.empty()) {
        std::vector<Stream*> batch;
        batch.swap(ready_);
        for (Stream* stream : batch) {
          StartCall(stream);
          if (stream->connection->session != nullptr)
            dirty_.push_back(stream->connection);
        }
      }
      std::sort(dirty_.begin(), dirty_.end());
      dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
      for (Connection* c : dirty_) Flush(*c);
      dirty_.clear();
      absl::MutexLock lock(&mu_);
      if (stopping_ && by_id_.empty() && incoming_.empty()) return;
    }
  }

  // Reads what the socket holds (one read unless it filled the buffer) and
  // hands it to nghttp2. False if the connection was dropped.
  bool Read(Connection& c) {
    uint8_t buffer[64 << 10];
    for (;;) {
      ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (n <= 0) {
        Drop(c, n == 0 ? "closed by the server" : strerror(errno));
        return false;
      }
      ssize_t used = nghttp2_session_mem_recv(c.session, buffer, static_cast<size_t>(n));
      if (c.session == nullptr) return false;
      if (used < 0) {
        Drop(c, nghttp2_strerror(static_cast<int>(used)));
        return false;
      }
      if (static_cast<size_t>(n) < sizeof buffer) return true;
    }
  }

  // Gathers every frame nghttp2 has ready and writes them with one send.
  void Flush(Connection& c) {
    if (c.session == nullptr) return;
    constexpr size_t kBatch = 256 << 10;
    while (c.unsent.size() < kBatch) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(c.session, &data);
      if (n < 0) {
        Drop(c, nghttp2_strerror(static_cast<int>(n)));
        return;
      }
      if (n == 0) break;
      c.unsent.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (!c.unsent.empty()) {
      ssize_t n = send(c.fd, c.unsent.data(), c.unsent.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        Drop(c, strerror(errno));
        return;
      }
      if (n > 0) c.unsent.erase(0, static_cast<size_t>(n));
    }
    // Ask for EPOLLOUT only while there are bytes the socket did not take.
    bool want_out = !c.unsent.empty() || nghttp2_session_want_write(c.session) != 0;
    if (want_out != c.want_out) {
      epoll_event event{};
      event.events = want_out ? EPOLLIN | EPOLLOUT : EPOLLIN;
      event.data.u64 = c.index;
      if (epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &event) != 0) {
        Drop(c, absl::StrCat("epoll_ctl: ", strerror(errno)));
        return;
      }
      c.want_out = want_out;
    }
  }

  // Every call has the same timeout, so deadlines come in the order calls
  // start: a FIFO, trimmed from the front of calls that have finished, holds
  // about as many entries as there are calls in flight.
  // Drops connections whose TCP connect has taken longer than kConnectTimeout.
  void ExpireConnects() {
    const absl::Time now = absl::Now();
    for (auto& connection : connections_) {
      Connection& c = *connection;
      if (c.fd >= 0 && c.connecting && now - c.last_attempt > kConnectTimeout) {
        Drop(c, absl::StrCat("cannot connect to ", c.target, ": timed out after ",
                             absl::FormatDuration(kConnectTimeout)));
      }
    }
  }

  void ExpireDeadlines() {
    const absl::Time now = absl::Now();
    while (!deadlines_.empty()) {
      auto [deadline, id] = deadlines_.front();
      auto found = by_id_.find(id);
      if (found != by_id_.end() && deadline > now) break;
      deadlines_.pop_front();
      if (found == by_id_.end()) continue;  // already finished
      Stream* stream = found->second;
      stream->deadline_passed = true;
      Connection& c = *stream->connection;
      if (stream->stream_id < 0) {  // still waiting for its connection
        c.waiting.erase(std::remove(c.waiting.begin(), c.waiting.end(), stream),
                        c.waiting.end());
        Finish(stream, grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                    "Deadline Exceeded (h2c connection not up)"));
        continue;
      }
      nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, stream->stream_id,
                                NGHTTP2_CANCEL);
      dirty_.push_back(&c);
    }
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                          uint32_t* flags, nghttp2_data_source* source, void*) {
    auto* stream = static_cast<Stream*>(source->ptr);
    size_t n = std::min(length, stream->body.size() - stream->sent);
    memcpy(buf, stream->body.data() + stream->sent, n);
    stream->sent += n;
    if (stream->sent == stream->body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame,
                      const uint8_t* name, size_t name_length, const uint8_t* value,
                      size_t value_length, uint8_t, void*) {
    auto* stream = static_cast<Stream*>(
        nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
    if (stream == nullptr) return 0;
    absl::string_view key(reinterpret_cast<const char*>(name), name_length);
    absl::string_view text(reinterpret_cast<const char*>(value), value_length);
    if (key == ":status") {
      if (!absl::SimpleAtoi(text, &stream->http_status)) stream->http_status = 0;
    } else if (key == "grpc-status") {
      if (!absl::SimpleAtoi(text, &stream->grpc_status)) stream->grpc_status = 2;
    } else if (key == "grpc-message") {
      stream->grpc_message = PercentDecode(value, value_length);
    }
    return 0;
  }

  static int OnData(nghttp2_session* session, uint8_t, int32_t stream_id,
                    const uint8_t* data, size_t length, void*) {
    auto* stream =
        static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
    if (stream == nullptr) return 0;
    if (stream->received.size() + length > kMaxResponseBytes) {
      stream->too_large = true;
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
      return 0;
    }
    stream->received.append(reinterpret_cast<const char*>(data), length);
    return 0;
  }

  static int OnClose(nghttp2_session* session, int32_t stream_id, uint32_t error_code,
                     void* user) {
    auto* stream =
        static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
    if (stream == nullptr) return 0;
    auto* c = static_cast<Connection*>(user);
    Loop* loop = c->session == session ? on_loop_thread_ : nullptr;
    if (loop == nullptr) return 0;
    loop->Finish(stream, StatusOf(*stream, error_code));
    return 0;
  }

  // The call's outcome from what came back, as gRPC's client would give it.
  static grpc::Status StatusOf(Stream& stream, uint32_t error_code) {
    using grpc::StatusCode;
    if (stream.deadline_passed) {
      return grpc::Status(StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded");
    }
    if (stream.too_large) {
      return grpc::Status(StatusCode::RESOURCE_EXHAUSTED, "response larger than 64 MiB");
    }
    if (stream.grpc_status < 0) {
      if (error_code != NGHTTP2_NO_ERROR) {
        // Reset before an answer: it may or may not have run.
        return grpc::Status(
            StatusCode::UNAVAILABLE,
            absl::StrCat("h2c stream reset: ", nghttp2_http2_strerror(error_code)));
      }
      return grpc::Status(
          stream.http_status == 503 ? StatusCode::UNAVAILABLE : StatusCode::UNKNOWN,
          absl::StrCat("no grpc-status (HTTP ", stream.http_status, ")"));
    }
    if (stream.grpc_status != 0) {
      return grpc::Status(static_cast<StatusCode>(std::min(stream.grpc_status, 16)),
                          stream.grpc_message);
    }
    const std::string& data = stream.received;
    if (data.size() < 5 || data[0] != 0) {
      return grpc::Status(StatusCode::INTERNAL, "h2c: missing or compressed response");
    }
    uint32_t length =
        (static_cast<uint8_t>(data[1]) << 24) | (static_cast<uint8_t>(data[2]) << 16) |
        (static_cast<uint8_t>(data[3]) << 8) | static_cast<uint8_t>(data[4]);
    if (data.size() != 5 + static_cast<size_t>(length) ||
        !stream.response->ParseFromArray(data.data() + 5, static_cast<int>(length))) {
      return grpc::Status(StatusCode::INTERNAL, "h2c: malformed response message");
    }
    return grpc::Status::OK;
  }

  std::vector<std::unique_ptr<Connection>> connections_;
  nghttp2_session_callbacks* callbacks_ = nullptr;
  int epoll_ = -1;
  int wake_ = -1;
  std::thread thread_;
  std::atomic<uint64_t> next_id_{1};

  absl::Mutex mu_;
  std::vector<Stream*> incoming_ ABSL_GUARDED_BY(mu_);  // calls from other threads
  std::vector<Stream*> free_ ABSL_GUARDED_BY(mu_);      // finished calls for reuse
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  size_t up_ ABSL_GUARDED_BY(mu_) = 0;            // connections up, for WaitConnected
  std::string first_error_ ABSL_GUARDED_BY(mu_);  // of a first connect that failed

  // The loop thread's own (and Start's, before the thread exists).
  std::vector<Stream*> ready_;
  std::vector<Connection*> dirty_;
  std::unordered_map<uint64_t, Stream*> by_id_;            // calls in flight
  std::deque<std::pair<absl::Time, uint64_t>> deadlines_;  // (deadline, call id)
};

thread_local H2cTransport::Loop* H2cTransport::Loop::on_loop_thread_ = nullptr;

absl::StatusOr<std::unique_ptr<H2cTransport>> H2cTransport::Connect(
    const std::vector<std::string>& targets, int per_target) {
  std::unique_ptr<H2cTransport> transport(new H2cTransport);
  transport->loop_ = std::make_unique<Loop>(targets, per_target);
  absl::Status started = transport->loop_->Start();
  if (!started.ok()) return started;
  return transport;
}

absl::Status H2cTransport::WaitConnected(absl::Time deadline) {
  return loop_->WaitConnected(deadline);
}

H2cTransport::~H2cTransport() = default;

size_t H2cTransport::connections() const { return loop_->size(); }

bool H2cTransport::Healthy(size_t index) const { return loop_->Healthy(index); }

void H2cTransport::Call(size_t index, const char* path,
                        const google::protobuf::Message& request,
                        google::protobuf::Message* response, absl::Duration timeout,
                        DoneFn done, void* arg) {
  Stream* stream = loop_->NewStream();
  stream->id = loop_->NextId();
  stream->connection = loop_->connection(index);
  stream->stream_id = -1;
  stream->path = path;
  const size_t size = request.ByteSizeLong();
  stream->body.resize(5 + size);
  stream->body[0] = 0;
  for (int i = 0; i < 4; ++i) {
    stream->body[1 + i] = static_cast<char>((size >> (24 - 8 * i)) & 0xff);
  }
  request.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(&stream->body[5]));
  stream->sent = 0;
  stream->response = response;
  stream->done = done;
  stream->arg = arg;
  stream->deadline = absl::Now() + timeout;
  stream->timeout = GrpcTimeout(timeout);
  stream->http_status = 0;
  stream->grpc_status = -1;
  stream->deadline_passed = false;
  stream->too_large = false;
  loop_->Submit(stream);
}

}  // namespace card::stress
