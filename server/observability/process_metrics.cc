// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/observability/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "server/common/log.h"
#include "server/common/rate_limited_log.h"
#include "server/common/read_file.h"

namespace card::observability {
namespace {

// /proc/self/stat is one line of a few hundred bytes, limits about 1.5 KiB.
// /proc/stat grows with the CPUs and interrupt lines (btime comes after the
// "intr" line, which has one number per interrupt): a few hundred KiB on
// large machines. The bounds leave ample room and still cap what one read
// can allocate.
constexpr size_t kMaxStatBytes = 64 * 1024;
constexpr size_t kMaxLimitsBytes = 64 * 1024;
constexpr size_t kMaxProcStatBytes = 16 * 1024 * 1024;

absl::Status Malformed(absl::string_view what, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("unreadable ", what, ": ", why));
}

// Entries of /proc/self/fd, not counting the descriptor that reads it.
absl::StatusOr<int64_t> CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot open /proc/self/fd: ", std::strerror(errno)));
  }
  std::string own = std::to_string(dirfd(dir));
  int64_t count = 0;
  while (const dirent* entry = readdir(dir)) {
    absl::string_view name = entry->d_name;
    if (name == "." || name == ".." || name == own) continue;
    ++count;
  }
  closedir(dir);
  return count;
}

prometheus::MetricFamily Family(const char* name, const char* help,
                                prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  family.metric.resize(1);
  if (type == prometheus::MetricType::Counter) {
    family.metric[0].counter.value = value;
  } else {
    family.metric[0].gauge.value = value;
  }
  return family;
}

class ProcessCollector final : public prometheus::Collectable {
 public:
  ProcessCollector() {
    absl::StatusOr<std::string> proc_stat = ReadFileUpTo("/proc/stat", kMaxProcStatBytes);
    absl::StatusOr<int64_t> boot = proc_stat.ok()
                                       ? ParseBootTime(*proc_stat)
                                       : absl::StatusOr<int64_t>(proc_stat.status());
    if (boot.ok()) {
      boot_time_ = *boot;
    } else {
      log::Warning("no process_start_time_seconds",
                   {{"error", std::string(boot.status().message())}});
    }
  }

  // On the exposer's threads; reads only, keeps no state but the log's.
  std::vector<prometheus::MetricFamily> Collect() const override {
    absl::StatusOr<ProcessSample> sample = SampleProcess(boot_time_);
    if (!sample.ok()) {
      failures_.Warning(
          absl::StrCat("no process_* metrics this scrape: ", sample.status().message()));
      return {};
    }
    using prometheus::MetricType;
    // Names and help as client_golang's process collector has them.
    std::vector<prometheus::MetricFamily> families = {
        Family("process_cpu_seconds_total",
               "Total user and system CPU time spent in seconds.", MetricType::Counter,
               sample->cpu_seconds),
        Family("process_resident_memory_bytes", "Resident memory size in bytes.",
               MetricType::Gauge, sample->resident_memory_bytes),
        Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
               MetricType::Gauge, sample->virtual_memory_bytes),
        Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
               sample->open_fds),
        Family("process_max_fds", "Maximum number of open file descriptors.",
               MetricType::Gauge, sample->max_fds),
        Family("process_threads", "Number of OS threads in the process.",
               MetricType::Gauge, sample->threads),
    };
    if (sample->start_time_seconds) {
      families.push_back(Family("process_start_time_seconds",
                                "Start time of the process since unix epoch in seconds.",
                                MetricType::Gauge, *sample->start_time_seconds));
    }
    return families;
  }

 private:
  std::optional<int64_t> boot_time_;
  // A /proc that stops answering would otherwise log on every scrape.
  mutable RateLimitedLog failures_{"process metrics failures", 1, absl::Minutes(10)};
};

}  // namespace

absl::StatusOr<ProcStat> ParseProcStat(absl::string_view stat) {
  // "pid (comm) state ppid ...": comm is whatever the process named itself,
  // spaces and parentheses included; the kernel puts no ')' after it.
  size_t close = stat.rfind(')');
  if (close == absl::string_view::npos) return Malformed("/proc/self/stat", "no ')'");
  std::vector<absl::string_view> fields = absl::StrSplit(
      absl::StripAsciiWhitespace(stat.substr(close + 1)), ' ', absl::SkipEmpty());
  // fields[0] is the 3rd field (state): field n is fields[n - 3].
  constexpr size_t kRss = 24 - 3;
  if (fields.size() <= kRss) return Malformed("/proc/self/stat", "too few fields");
  ProcStat parsed;
  bool ok = absl::SimpleAtoi(fields[14 - 3], &parsed.utime_ticks) &&
            absl::SimpleAtoi(fields[15 - 3], &parsed.stime_ticks) &&
            absl::SimpleAtoi(fields[20 - 3], &parsed.threads) &&
            absl::SimpleAtoi(fields[22 - 3], &parsed.start_ticks) &&
            absl::SimpleAtoi(fields[23 - 3], &parsed.vsize_bytes) &&
            absl::SimpleAtoi(fields[kRss], &parsed.rss_pages);
  if (!ok) return Malformed("/proc/self/stat", "a field is not a number");
  return parsed;
}

absl::StatusOr<double> ParseMaxOpenFiles(absl::string_view limits) {
  // "Max open files            1024                 4096                 files"
  for (absl::string_view line : absl::StrSplit(limits, '\n')) {
    if (!absl::ConsumePrefix(&line, "Max open files")) continue;
    std::vector<absl::string_view> values = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (values.empty()) break;
    if (values[0] == "unlimited") return std::numeric_limits<double>::infinity();
    uint64_t soft = 0;
    if (!absl::SimpleAtoi(values[0], &soft)) break;
    return static_cast<double>(soft);
  }
  return Malformed("/proc/self/limits", "no \"Max open files\" soft limit");
}

absl::StatusOr<int64_t> ParseBootTime(absl::string_view proc_stat) {
  for (absl::string_view line : absl::StrSplit(proc_stat, '\n')) {
    if (!absl::ConsumePrefix(&line, "btime ")) continue;
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &seconds)) break;
    return seconds;
  }
  return Malformed("/proc/stat", "no btime line");
}

absl::StatusOr<ProcessSample> SampleProcess(std::optional<int64_t> boot_time) {
  static const double kTicksPerSecond = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double kPageBytes = static_cast<double>(sysconf(_SC_PAGESIZE));
  absl::StatusOr<std::string> stat_text = ReadFileUpTo("/proc/self/stat", kMaxStatBytes);
  if (!stat_text.ok()) return stat_text.status();
  absl::StatusOr<ProcStat> stat = ParseProcStat(*stat_text);
  if (!stat.ok()) return stat.status();
  absl::StatusOr<std::string> limits = ReadFileUpTo("/proc/self/limits", kMaxLimitsBytes);
  if (!limits.ok()) return limits.status();
  absl::StatusOr<double> max_fds = ParseMaxOpenFiles(*limits);
  if (!max_fds.ok()) return max_fds.status();
  absl::StatusOr<int64_t> open_fds = CountOpenFds();
  if (!open_fds.ok()) return open_fds.status();

  ProcessSample sample;
  sample.cpu_seconds =
      static_cast<double>(stat->utime_ticks + stat->stime_ticks) / kTicksPerSecond;
  sample.resident_memory_bytes = static_cast<double>(stat->rss_pages) * kPageBytes;
  sample.virtual_memory_bytes = static_cast<double>(stat->vsize_bytes);
  sample.open_fds = static_cast<double>(*open_fds);
  sample.max_fds = *max_fds;
  sample.threads = static_cast<double>(stat->threads);
  if (boot_time) {
    sample.start_time_seconds = static_cast<double>(*boot_time) +
                                static_cast<double>(stat->start_ticks) / kTicksPerSecond;
  }
  return sample;
}

std::shared_ptr<prometheus::Collectable> NewProcessCollector() {
  return std::make_shared<ProcessCollector>();
}

}  // namespace card::observability
