// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The standard process_* metrics of the Prometheus client libraries
// (client_golang's and client_python's process collector, same names, help and
// units), which prometheus-cpp does not have: CPU seconds, resident and
// virtual memory, open and maximum file descriptors, start time, threads.
// Read from /proc/self on every scrape (a prometheus::Collectable), not on a
// timer: a scrape sees the process as it is, and an idle server does no work.
// Linux only, like the rest of the server.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace card::observability {

// The fields of /proc/<pid>/stat the metrics need (proc(5)), still in the
// kernel's units.
struct ProcStat {
  uint64_t utime_ticks = 0;  // 14th field: user CPU, clock ticks
  uint64_t stime_ticks = 0;  // 15th: system CPU, clock ticks
  int64_t threads = 0;       // 20th
  uint64_t start_ticks = 0;  // 22nd: start time, clock ticks after boot
  uint64_t vsize_bytes = 0;  // 23rd
  int64_t rss_pages = 0;     // 24th
};

// Parses one /proc/<pid>/stat line. The command name (2nd field) is in
// parentheses and may itself hold spaces and ')': fields are counted from the
// last ')'. INVALID_ARGUMENT if a field is missing or not a number.
absl::StatusOr<ProcStat> ParseProcStat(absl::string_view stat);

// The soft "Max open files" limit from /proc/<pid>/limits; +Inf for
// "unlimited" (what RLIM_INFINITY means). INVALID_ARGUMENT without that line.
absl::StatusOr<double> ParseMaxOpenFiles(absl::string_view limits);

// The boot time ("btime", seconds since the epoch) from /proc/stat.
absl::StatusOr<int64_t> ParseBootTime(absl::string_view proc_stat);

// One reading of this process, in the metrics' units.
struct ProcessSample {
  double cpu_seconds = 0;
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;
  double threads = 0;
  std::optional<double> start_time_seconds;  // none if /proc/stat had no btime
};

// Reads /proc/self now. `boot_time` is ParseBootTime of /proc/stat, read once
// (it does not change while the machine runs).
absl::StatusOr<ProcessSample> SampleProcess(std::optional<int64_t> boot_time);

// The collector for ServerMetrics::Serve to register on its exposer: reads
// /proc/stat's btime once, here, and /proc/self on each Collect. A scrape
// whose /proc reading fails serves no process_* series (and logs why, rate
// limited) rather than made-up values.
std::shared_ptr<prometheus::Collectable> NewProcessCollector();

}  // namespace card::observability
