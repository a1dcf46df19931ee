// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/common/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace card {
namespace {

// Closes the descriptor on every return path.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  const int fd_;
};

absl::Status CannotRead(const std::string& path, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": ", why));
}

}  // namespace

absl::StatusOr<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; such
  // a path is refused below, so a reload never blocks on one.
  FileDescriptor file(open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (file.get() < 0) return CannotRead(path, std::strerror(errno));
  struct stat info;
  if (fstat(file.get(), &info) != 0) return CannotRead(path, std::strerror(errno));
  if (!S_ISREG(info.st_mode)) return CannotRead(path, "not a regular file");
  std::string contents;
  char chunk[16384];
  for (;;) {
    ssize_t got = read(file.get(), chunk, sizeof chunk);
    if (got < 0) {
      if (errno == EINTR) continue;
      return CannotRead(path, std::strerror(errno));
    }
    if (got == 0) break;
    contents.append(chunk, static_cast<size_t>(got));
    if (contents.size() > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is larger than ", max_bytes, " bytes"));
    }
  }
  return contents;
}

}  // namespace card
