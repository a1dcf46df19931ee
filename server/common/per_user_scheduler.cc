#include "server/common/per_user_scheduler.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace card {

PerUserScheduler::PerUserScheduler(const SchedulerLimits& limits, MetricsSink* metrics)
    : limits_(limits), metrics_(metrics) {
  workers_.reserve(limits_.workers);
  for (int i = 0; i < limits_.workers; ++i) workers_.emplace_back([this] { Work(); });
  expirer_ = std::thread([this] { ExpireLoop(); });
}

PerUserScheduler::~PerUserScheduler() { Stop(); }

absl::StatusOr<PerUserScheduler::JobId> PerUserScheduler::Submit(
    absl::string_view user_key, absl::Time deadline, size_t bytes,
    std::unique_ptr<Job> job) {
  std::string user(user_key);
  absl::Status refused;
  JobId id = 0;
  size_t depth = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    UserQueue* queue = nullptr;
    if (stopping_) {
      refused = absl::UnavailableError("server shutting down; retry on another replica");
    } else if (user_of_.size() >= limits_.max_queued ||
               queued_bytes_ + bytes > limits_.max_queued_bytes) {
      refused = absl::ResourceExhaustedError("server overloaded; retry with backoff");
    } else {
      if (limits_.one_queue_per_request) user = absl::StrCat(" job ", next_id_);
      queue = &users_[user];
      if (queue->entries.size() >= limits_.max_queued_per_user) {
        refused = absl::ResourceExhaustedError(
            absl::StrCat("user_id: more than ", limits_.max_queued_per_user,
                         " requests for this user are waiting; retry with backoff"));
      }
    }
    if (refused.ok()) {
      id = next_id_++;
      bool was_idle = queue->entries.empty() && !queue->running;
      queue->entries.push_back(Entry{id, deadline, bytes, std::move(job)});
      depth = queue->entries.size();
      user_of_.emplace(id, user);
      bool earliest = by_deadline_.empty() || deadline < by_deadline_.begin()->first;
      by_deadline_.emplace(deadline, id);
      queued_bytes_ += bytes;
      if (was_idle) {
        queue->ready_position = ready_.insert(ready_.end(), user);
        work_ready_.notify_one();
      }
      if (earliest) expiry_changed_.notify_one();
    }
  }
  if (!refused.ok()) {
    job->Drop(refused);
    return refused;
  }
  metrics_->ObserveUserQueueDepth(depth);
  return id;
}

void PerUserScheduler::Cancel(JobId id) {
  Dropped dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = user_of_.find(id);
    if (it == user_of_.end()) return;
    std::string user = it->second;
    RemoveLocked(user, id, absl::CancelledError("cancelled by the client while queued"),
                 &dropped);
  }
  DropAll(dropped);
}

bool PerUserScheduler::RemoveLocked(const std::string& user, JobId id,
                                    const absl::Status& why, Dropped* dropped) {
  auto user_it = users_.find(user);
  if (user_it == users_.end()) return false;
  UserQueue& queue = user_it->second;
  for (auto it = queue.entries.begin(); it != queue.entries.end(); ++it) {
    if (it->id != id) continue;
    Forget(*it);
    dropped->emplace_back(std::move(it->job), why);
    queue.entries.erase(it);
    if (queue.entries.empty() && !queue.running) {
      if (queue.ready_position) ready_.erase(*queue.ready_position);
      users_.erase(user_it);
    }
    return true;
  }
  return false;
}

void PerUserScheduler::Forget(const Entry& entry) {
  user_of_.erase(entry.id);
  by_deadline_.erase({entry.deadline, entry.id});
  queued_bytes_ -= entry.bytes;
}

void PerUserScheduler::DropAll(Dropped& dropped) {
  for (auto& [job, why] : dropped) job->Drop(why);
  dropped.clear();
}

void PerUserScheduler::TakeLocked(UserQueue& queue, const void* kind, size_t room,
                                  std::vector<std::unique_ptr<Job>>* turn,
                                  Dropped* expired) {
  const absl::Time now = absl::Now();
  while (!queue.entries.empty() && turn->size() < room) {
    Entry& next = queue.entries.front();
    if (next.job->batch_kind() != kind) break;
    Forget(next);
    if (now >= next.deadline) {
      expired->emplace_back(std::move(next.job),
                            absl::DeadlineExceededError("deadline passed while queued"));
    } else {
      turn->push_back(std::move(next.job));
    }
    queue.entries.pop_front();
  }
}

std::vector<std::unique_ptr<PerUserScheduler::Job>> PerUserScheduler::TakeTurnLocked(
    const std::string& user, std::vector<std::string>* also_served, Dropped* expired) {
  std::vector<std::unique_ptr<Job>> turn;
  UserQueue& queue = users_.at(user);  // listed users are never erased
  queue.ready_position.reset();
  queue.running = true;
  const void* kind = queue.entries.front().job->batch_kind();
  if (kind == nullptr) {
    TakeLocked(queue, nullptr, 1, &turn, expired);
    return turn;
  }
  TakeLocked(queue, kind, limits_.max_batch, &turn, expired);
  if (!limits_.batch_across_users) return turn;
  // Room left: the front jobs of that kind of the users waiting for their
  // turn, in turn order. They are served now, which is their turn taken
  // early; the scan is bounded so a long line of other kinds costs little.
  size_t looked_at = 0;
  for (auto it = ready_.begin(); it != ready_.end() && turn.size() < limits_.max_batch &&
                                 looked_at < 2 * limits_.max_batch;
       ++looked_at) {
    UserQueue& other = users_.at(*it);
    if (other.entries.front().job->batch_kind() != kind) {
      ++it;
      continue;
    }
    TakeLocked(other, kind, limits_.max_batch, &turn, expired);
    other.running = true;
    other.ready_position.reset();
    also_served->push_back(std::move(*it));
    it = ready_.erase(it);
  }
  return turn;
}

void PerUserScheduler::EndTurnLocked(std::string user) {
  // Other users' queues may have moved the map meanwhile: find it afresh.
  auto user_it = users_.find(user);
  user_it->second.running = false;
  if (user_it->second.entries.empty()) {
    users_.erase(user_it);
  } else {
    // Round robin: back of the line.
    user_it->second.ready_position = ready_.insert(ready_.end(), std::move(user));
    work_ready_.notify_one();
  }
}

void PerUserScheduler::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  Dropped expired;
  std::vector<std::string> also_served;
  for (;;) {
    work_ready_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
    if (ready_.empty()) return;  // stopping, nothing left to start
    std::string user = std::move(ready_.front());
    ready_.pop_front();
    std::vector<std::unique_ptr<Job>> turn = TakeTurnLocked(user, &also_served, &expired);
    lock.unlock();
    DropAll(expired);
    if (turn.size() == 1) {
      turn.front()->Run();
    } else if (turn.size() > 1) {
      turn.front()->RunBatch(turn);
    }
    turn.clear();
    lock.lock();
    EndTurnLocked(std::move(user));
    for (std::string& other : also_served) EndTurnLocked(std::move(other));
    also_served.clear();
  }
}

void PerUserScheduler::ExpireLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  Dropped dropped;
  while (!stopping_) {
    if (by_deadline_.empty()) {
      expiry_changed_.wait(lock);
      continue;
    }
    absl::Time next = by_deadline_.begin()->first;
    absl::Time now = absl::Now();
    if (next > now) {
      expiry_changed_.wait_for(lock, absl::ToChronoNanoseconds(next - now));
      continue;
    }
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
      JobId id = by_deadline_.begin()->second;
      auto it = user_of_.find(id);
      if (it == user_of_.end() ||
          !RemoveLocked(it->second, id,
                        absl::DeadlineExceededError("deadline passed while queued"),
                        &dropped)) {
        by_deadline_.erase(by_deadline_.begin());  // never spin on a stale entry
      }
    }
    lock.unlock();
    DropAll(dropped);
    lock.lock();
  }
}

void PerUserScheduler::Stop() {
  Dropped dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    for (auto& [user, queue] : users_) {
      for (Entry& entry : queue.entries) {
        dropped.emplace_back(std::move(entry.job),
                             absl::UnavailableError("server shutting down; retry"));
      }
      queue.entries.clear();
      queue.ready_position.reset();
    }
    user_of_.clear();
    by_deadline_.clear();
    queued_bytes_ = 0;
    ready_.clear();
  }
  work_ready_.notify_all();
  expiry_changed_.notify_all();
  DropAll(dropped);
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  if (expirer_.joinable()) expirer_.join();
}

size_t PerUserScheduler::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return user_of_.size();
}

}  // namespace card
