// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/exec/per_user_scheduler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/check.h"

namespace card {

PerUserScheduler::PerUserScheduler(const SchedulerLimits& limits, MetricsSink* metrics)
    : limits_(limits),
      metrics_(metrics),
      queue_of_(limits.one_queue_per_request_for_test
                    ? &PerUserScheduler::QueueOfItsOwnForTest
                    : &PerUserScheduler::QueueOfUser) {
  workers_.reserve(limits_.workers);
  for (int i = 0; i < limits_.workers; ++i) workers_.emplace_back([this] { Work(); });
  expirer_ = std::thread([this] { ExpireLoop(); });
}

PerUserScheduler::~PerUserScheduler() { Stop(); }

std::string PerUserScheduler::QueueOfUser(absl::string_view user) {
  return std::string(user);
}

std::string PerUserScheduler::QueueOfItsOwnForTest(absl::string_view /*user*/) {
  return absl::StrCat(" job ",
                      own_queues_for_test_.fetch_add(1));  // a user id has no spaces
}

absl::StatusOr<PerUserScheduler::JobId> PerUserScheduler::Submit(
    absl::string_view user_key, absl::Time deadline, size_t bytes,
    std::unique_ptr<Job> job) {
  std::string user = (this->*queue_of_)(user_key);
  absl::Status refused;
  JobId id = 0;
  size_t depth = 0;
  {
    absl::MutexLock lock(&mu_);
    UserQueue* queue = nullptr;
    if (stopping_) {
      refused = absl::UnavailableError("server shutting down; retry on another replica");
    } else if (user_of_.size() >= limits_.max_queued ||
               queued_bytes_ + bytes > limits_.max_queued_bytes) {
      refused = absl::ResourceExhaustedError("server overloaded; retry with backoff");
    } else {
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
        // Without a free slot, the worker that frees one takes it.
        if (SlotFree()) work_ready_.Signal();
      }
      if (earliest) expiry_changed_.Signal();
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
    absl::MutexLock lock(&mu_);
    auto it = user_of_.find(id);
    if (it == user_of_.end()) return;
    std::string user = it->second;
    Remove(user, id, absl::CancelledError("cancelled by the client while queued"),
           &dropped);
  }
  DropAll(dropped);
}

bool PerUserScheduler::Remove(const std::string& user, JobId id, const absl::Status& why,
                              Dropped* dropped) {
  auto user_it = users_.find(user);
  if (user_it == users_.end()) return false;
  UserQueue& queue = user_it->second;
  for (auto it = queue.entries.begin(); it != queue.entries.end(); ++it) {
    if (it->id != id) continue;
    Forget(*it);
    dropped->emplace_back(std::move(it->job), why);
    queue.entries.erase(it);
    if (queue.entries.empty() && !queue.running) {
      CARD_CHECK(queue.ready_position.has_value(), "an idle user with jobs is in line");
      ready_.erase(*queue.ready_position);
      users_.erase(user_it);
    }
    return true;
  }
  return false;
}

void PerUserScheduler::Forget(const Entry& entry) {
  CARD_CHECK(user_of_.erase(entry.id) == 1, "every queued job is indexed by id");
  by_deadline_.erase({entry.deadline, entry.id});
  CARD_CHECK(queued_bytes_ >= entry.bytes, "queued bytes count every queued job");
  queued_bytes_ -= entry.bytes;
}

void PerUserScheduler::DropAll(Dropped& dropped) {
  for (auto& [job, why] : dropped) job->Drop(why);
  dropped.clear();
}

void PerUserScheduler::Take(UserQueue& queue, const Job::BatchKind& kind, size_t room,
                            Turn* turn) {
  const absl::Time now = absl::Now();
  while (!queue.entries.empty() && turn->jobs.size() < room) {
    Entry& next = queue.entries.front();
    if (next.job->batch_kind() != kind) break;
    Forget(next);
    if (now >= next.deadline) {
      turn->expired.emplace_back(
          std::move(next.job),
          absl::DeadlineExceededError("deadline passed while queued"));
    } else {
      turn->jobs.push_back(std::move(next.job));
    }
    queue.entries.pop_front();
  }
}

void PerUserScheduler::TakeTurn(std::string user, Turn* turn) {
  auto user_it = users_.find(user);
  CARD_CHECK(user_it != users_.end(), "a user in line is in users_");
  UserQueue& queue = user_it->second;
  CARD_CHECK(!queue.entries.empty() && !queue.running,
             "a user in line has queued jobs and no running turn");
  turn->user = std::move(user);
  queue.ready_position.reset();
  queue.running = true;
  const Job::BatchKind kind = queue.entries.front().job->batch_kind();
  if (!kind.has_value()) {
    Take(queue, kind, 1, turn);
    return;
  }
  Take(queue, kind, limits_.max_batch, turn);
  if (!limits_.batch_across_users) return;
  // Room left: the front jobs of that kind of the users waiting for their
  // turn, in turn order. They are served now, which is their turn taken
  // early; the scan is bounded so a long line of other kinds costs little.
  // (No insertion into users_ below, so `queue` stays valid.)
  size_t looked_at = 0;
  for (auto it = ready_.begin();
       it != ready_.end() && turn->jobs.size() < limits_.max_batch &&
       looked_at < 2 * limits_.max_batch;
       ++looked_at) {
    auto other_it = users_.find(*it);
    CARD_CHECK(other_it != users_.end(), "a user in line is in users_");
    UserQueue& other = other_it->second;
    CARD_CHECK(!other.entries.empty(), "a user in line has queued jobs");
    if (other.entries.front().job->batch_kind() != kind) {
      ++it;
      continue;
    }
    Take(other, kind, limits_.max_batch, turn);
    other.running = true;
    other.ready_position.reset();
    turn->also_served.push_back(std::move(*it));
    it = ready_.erase(it);
  }
}

void PerUserScheduler::EndTurn(std::string user) {
  // Other users' queues may have moved the map meanwhile: find it afresh.
  auto user_it = users_.find(user);
  CARD_CHECK(user_it != users_.end(), "a user whose turn runs stays in users_");
  CARD_CHECK(user_it->second.running, "a turn ends only once");
  user_it->second.running = false;
  if (user_it->second.entries.empty()) {
    users_.erase(user_it);
  } else {
    // Round robin: back of the line. No wake-up: the worker ending the turn
    // looks for its next one now (NextTurn).
    user_it->second.ready_position = ready_.insert(ready_.end(), std::move(user));
  }
}

bool PerUserScheduler::SlotFree() const {
  return limits_.max_active_turns <= 0 ||
         active_since_.size() < static_cast<size_t>(limits_.max_active_turns);
}

void PerUserScheduler::TakeSlot(Turn* turn) {
  if (limits_.max_active_turns <= 0) return;
  turn->slot.emplace(absl::Now(), next_slot_id_++);
  bool earliest = active_since_.empty();
  active_since_.insert(*turn->slot);
  if (earliest) expiry_changed_.Signal();
}

void PerUserScheduler::ReleaseSlot(Turn* turn) {
  if (!turn->slot.has_value()) return;
  // This worker looks for its next turn right away: no one to wake.
  active_since_.erase(*turn->slot);
  turn->slot.reset();
}

void PerUserScheduler::ReleaseOverdueSlots(absl::Time now) {
  while (!active_since_.empty() &&
         active_since_.begin()->first + limits_.active_turn_hold <= now) {
    active_since_.erase(active_since_.begin());
    work_ready_.Signal();
  }
}

bool PerUserScheduler::NextTurn(Turn* turn) {
  absl::MutexLock lock(&mu_);
  ReleaseSlot(turn);
  if (turn->user.has_value()) {
    EndTurn(*std::move(turn->user));
    turn->user.reset();
    for (std::string& other : turn->also_served) EndTurn(std::move(other));
    turn->also_served.clear();
  }
  while (!stopping_ && (ready_.empty() || !SlotFree())) work_ready_.Wait(&mu_);
  if (ready_.empty()) return false;  // stopping, nothing left to start
  TakeSlot(turn);
  std::string user = std::move(ready_.front());
  ready_.pop_front();
  TakeTurn(std::move(user), turn);
  // One wake-up at a time, passed on while there is work and a slot for it:
  // never a herd of workers that find nothing to do.
  if (!ready_.empty() && SlotFree()) work_ready_.Signal();
  return true;
}

void PerUserScheduler::Work() {
  Turn turn;
  while (NextTurn(&turn)) {
    DropAll(turn.expired);
    if (turn.jobs.size() == 1) {
      turn.jobs.front()->Run();
    } else if (turn.jobs.size() > 1) {
      turn.jobs.front()->RunBatch(turn.jobs);
    }
    turn.jobs.clear();
  }
}

bool PerUserScheduler::NextExpired(Dropped* expired) {
  absl::MutexLock lock(&mu_);
  for (;;) {
    if (stopping_) return false;
    absl::Time now = absl::Now();
    ReleaseOverdueSlots(now);
    absl::Time next = absl::InfiniteFuture();
    if (!by_deadline_.empty()) next = by_deadline_.begin()->first;
    if (!active_since_.empty()) {
      next = std::min(next, active_since_.begin()->first + limits_.active_turn_hold);
    }
    if (next > now) {
      expiry_changed_.WaitWithDeadline(&mu_, next);
      continue;
    }
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
      JobId id = by_deadline_.begin()->second;
      auto it = user_of_.find(id);
      if (it == user_of_.end() ||
          !Remove(it->second, id,
                  absl::DeadlineExceededError("deadline passed while queued"), expired)) {
        by_deadline_.erase(by_deadline_.begin());  // never spin on a stale entry
      }
    }
    return true;
  }
}

void PerUserScheduler::ExpireLoop() {
  Dropped expired;
  while (NextExpired(&expired)) DropAll(expired);
}

void PerUserScheduler::Stop() {
  Dropped dropped;
  {
    absl::MutexLock lock(&mu_);
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
  work_ready_.SignalAll();
  expiry_changed_.SignalAll();
  DropAll(dropped);
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  if (expirer_.joinable()) expirer_.join();
}

size_t PerUserScheduler::queued() const {
  absl::MutexLock lock(&mu_);
  return user_of_.size();
}

}  // namespace card
