// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "tests/cardctl/cardctl_fixture.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace card::testing {

CardctlRun RunProcess(const std::vector<std::string>& args, absl::Duration timeout) {
  CardctlRun run;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spawned != 0) {
    ADD_FAILURE() << "cannot run " << args[0] << ": " << strerror(spawned);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return run;
  }

  // Read both pipes until both are closed, so neither can fill up and block.
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&run.out, &run.err};
  int open_pipes = 2;
  const absl::Time give_up = absl::Now() + timeout;
  bool killed = false;
  while (open_pipes > 0) {
    int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(give_up - absl::Now()));
    if (wait_ms <= 0) {
      kill(pid, SIGKILL);
      killed = true;
      break;
    }
    if (poll(fds, 2, wait_ms) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, n);
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (killed) ADD_FAILURE() << "killed after " << timeout << ": " << args.back();
  run.exit_code = !killed && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

CardctlRun RunCardctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CARDCTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

CardctlRun CardctlTest::Cardctl(std::vector<std::string> args) const {
  args.insert(args.begin(), "--target=" + target());
  return RunCardctl(args);
}

v1::Card CardctlTest::CreateCard(const std::string& user_id, const std::string& title,
                                 std::vector<std::string> extra) {
  std::vector<std::string> args = {"--output=json", "create", "--user_id=" + user_id,
                                   "--title=" + title};
  args.insert(args.end(), extra.begin(), extra.end());
  CardctlRun run = Cardctl(args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return ParseJson<v1::Card>(run.out);
}

v1::PlatformLink CardctlTest::CreateLink(const std::string& user_id,
                                         const std::string& username) {
  CardctlRun run = Cardctl({"--output=json", "links", "create", "--user_id=" + user_id,
                            "--platform=github", "--username=" + username,
                            "--url=https://github.com/" + username});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return ParseJson<v1::PlatformLink>(run.out);
}

int CardctlTest::CardRows(const std::string& user_id) {
  return Query("SELECT count(*) FROM cards WHERE user_id = " + sql_->quote(user_id))[0][0]
      .as<int>();
}

}  // namespace card::testing
