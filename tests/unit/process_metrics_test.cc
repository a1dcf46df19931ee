// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The /proc parsing behind the process_* metrics, on lines copied from real
// kernels and on this test process itself: what the numbers say must match
// what the test did (threads started, descriptors opened, CPU burnt).
#include "server/observability/process_metrics.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace card::observability {
namespace {

// /proc/<pid>/stat of `cat` on a 6.x kernel.
constexpr char kCatStat[] =
    "21956 (cat) R 21932 21932 13515 0 -1 4194304 98 0 0 0 7 3 0 0 20 0 1 0 6552719 "
    "3133440 390 18446744073709551615 94675866796032 94675866815913 140730913095808 0 0 "
    "0 0 0 0 0 0 0 17 0 0 0 0 0 0 94675866831920 94675866833536 94676856643584 "
    "140730913102264 140730913102284 140730913102284 140730913103851 0\n";

TEST(ParseProcStatTest, ReadsTheFieldsByTheirPlace) {
  absl::StatusOr<ProcStat> stat = ParseProcStat(kCatStat);
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->utime_ticks, 7u);
  EXPECT_EQ(stat->stime_ticks, 3u);
  EXPECT_EQ(stat->threads, 1);
  EXPECT_EQ(stat->start_ticks, 6552719u);
  EXPECT_EQ(stat->vsize_bytes, 3133440u);
  EXPECT_EQ(stat->rss_pages, 390);
}

TEST(ParseProcStatTest, ACommandNameWithSpacesAndParenthesesDoesNotShiftTheFields) {
  // A process may name itself anything (prctl PR_SET_NAME, 15 bytes).
  absl::StatusOr<ProcStat> stat = ParseProcStat(
      "77 (a) b (c) d) S 1 77 77 0 -1 4194560 5 0 0 0 120 45 0 0 20 0 12 0 900 "
      "104857600 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0");
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->utime_ticks, 120u);
  EXPECT_EQ(stat->stime_ticks, 45u);
  EXPECT_EQ(stat->threads, 12);
  EXPECT_EQ(stat->start_ticks, 900u);
  EXPECT_EQ(stat->vsize_bytes, 104857600u);
  EXPECT_EQ(stat->rss_pages, 2048);
}

TEST(ParseProcStatTest, RefusesTruncatedOrGarbledLines) {
  EXPECT_FALSE(ParseProcStat("").ok());
  EXPECT_FALSE(ParseProcStat("12 cat R 1 2 3").ok());  // no parentheses
  EXPECT_FALSE(ParseProcStat("12 (cat) R 1 2 3 4 5 6 7 8 9 10").ok());
  std::string garbled = kCatStat;
  garbled.replace(garbled.find(" 7 3 "), 5, " x 3 ");
  EXPECT_FALSE(ParseProcStat(garbled).ok());
}

constexpr char kLimits[] =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max open files            1024                 524288               files     \n"
    "Max locked memory         8388608              8388608              bytes     \n";

TEST(ParseMaxOpenFilesTest, ReadsTheSoftLimit) {
  absl::StatusOr<double> max = ParseMaxOpenFiles(kLimits);
  ASSERT_TRUE(max.ok()) << max.status();
  EXPECT_EQ(*max, 1024);
}

TEST(ParseMaxOpenFilesTest, UnlimitedIsInfinityAndAMissingLineAnError) {
  absl::StatusOr<double> max = ParseMaxOpenFiles(
      "Max open files            unlimited            unlimited            files\n");
  ASSERT_TRUE(max.ok()) << max.status();
  EXPECT_TRUE(std::isinf(*max));
  EXPECT_FALSE(ParseMaxOpenFiles("Max cpu time  unlimited  unlimited  seconds\n").ok());
  EXPECT_FALSE(ParseMaxOpenFiles("Max open files   many   more   files\n").ok());
}

TEST(ParseBootTimeTest, FindsBtimeAfterTheLongLines) {
  std::string proc_stat = "cpu  1 2 3 4 5 6 7 8 9 10\nintr 123";
  for (int i = 0; i < 5000; ++i) proc_stat += " 0";
  proc_stat += "\nctxt 99\nbtime 1796401538\nprocesses 5\n";
  absl::StatusOr<int64_t> boot = ParseBootTime(proc_stat);
  ASSERT_TRUE(boot.ok()) << boot.status();
  EXPECT_EQ(*boot, 1796401538);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\nctxt 99\n").ok());
}

// This very process, read through /proc as a scrape reads the server.
absl::StatusOr<ProcessSample> SampleSelf() {
  // A test may not rely on the collector's own read of /proc/stat.
  std::optional<int64_t> boot;
  FILE* file = fopen("/proc/stat", "r");
  if (file != nullptr) {
    char line[256];
    long long seconds = 0;
    while (fgets(line, sizeof line, file) != nullptr) {
      if (sscanf(line, "btime %lld", &seconds) == 1) boot = seconds;
    }
    fclose(file);
  }
  return SampleProcess(boot);
}

TEST(SampleProcessTest, SeesTheDescriptorsThisTestOpens) {
  absl::StatusOr<ProcessSample> before = SampleSelf();
  ASSERT_TRUE(before.ok()) << before.status();
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) fds.push_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
  absl::StatusOr<ProcessSample> during = SampleSelf();
  for (int fd : fds) close(fd);
  ASSERT_TRUE(during.ok()) << during.status();
  EXPECT_EQ(during->open_fds, before->open_fds + 5);
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(during->max_fds, static_cast<double>(limit.rlim_cur));
  EXPECT_GT(during->open_fds, 0);
  EXPECT_LT(during->open_fds, during->max_fds);
}

TEST(SampleProcessTest, SeesAThreadThisTestStarts) {
  absl::StatusOr<ProcessSample> before = SampleSelf();
  ASSERT_TRUE(before.ok()) << before.status();
  absl::Notification stop;
  std::thread extra([&] { stop.WaitForNotification(); });
  absl::StatusOr<ProcessSample> during = SampleSelf();
  stop.Notify();
  extra.join();
  ASSERT_TRUE(during.ok()) << during.status();
  EXPECT_EQ(during->threads, before->threads + 1);
}

TEST(SampleProcessTest, MemoryStartTimeAndCpuArePlausible) {
  absl::StatusOr<ProcessSample> before = SampleSelf();
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_GT(before->resident_memory_bytes, 0);
  EXPECT_GE(before->virtual_memory_bytes, before->resident_memory_bytes);
  // The test process started before this line and after the machine booted;
  // a ctest run gives it well under an hour.
  ASSERT_TRUE(before->start_time_seconds.has_value());
  double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  EXPECT_LE(*before->start_time_seconds, now + 0.01);  // ticks are 10 ms
  EXPECT_GT(*before->start_time_seconds, now - 3600);

  // 300 ms of busy work on this thread shows as at least 100 ms of CPU
  // (the machine is shared: the thread may not get all of it).
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  volatile uint64_t spin = 0;
  while (std::chrono::steady_clock::now() < until) spin = spin + 1;
  absl::StatusOr<ProcessSample> after = SampleSelf();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GE(after->cpu_seconds - before->cpu_seconds, 0.1);
}

}  // namespace
}  // namespace card::observability
