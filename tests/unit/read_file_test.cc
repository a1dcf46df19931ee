// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/common/read_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace card {
namespace {

class ReadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/card-read-file-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::remove((dir_ + "/file").c_str());
    std::remove((dir_ + "/fifo").c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& contents) {
    std::string path = dir_ + "/file";
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  std::string dir_;
};

TEST_F(ReadFileTest, ReadsARegularFileWhole) {
  absl::StatusOr<std::string> read = ReadFileUpTo(Write("policy"), 100);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "policy");
}

TEST_F(ReadFileTest, RefusesAFileLargerThanTheBound) {
  absl::StatusOr<std::string> read = ReadFileUpTo(Write(std::string(40000, 'x')), 32768);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("larger than 32768"), std::string::npos);
}

TEST_F(ReadFileTest, NamesTheMissingPath) {
  absl::StatusOr<std::string> read = ReadFileUpTo(dir_ + "/missing", 100);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find(dir_ + "/missing"), std::string::npos);
}

TEST_F(ReadFileTest, RefusesADirectory) {
  absl::StatusOr<std::string> read = ReadFileUpTo(dir_, 100);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("not a regular file"), std::string::npos);
}

// A policy path replaced by a FIFO with no writer: opening it for reading
// would wait for a writer forever (the reloader stuck, shutdown held up). It
// must be refused at once. The read runs on a thread of its own so that a
// regression fails the test instead of hanging it.
TEST_F(ReadFileTest, RefusesAFifoWithoutBlocking) {
  std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto result = std::make_shared<std::promise<absl::StatusOr<std::string>>>();
  std::future<absl::StatusOr<std::string>> done = result->get_future();
  std::thread([fifo, result] { result->set_value(ReadFileUpTo(fifo, 100)); }).detach();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(2)), std::future_status::ready)
      << "ReadFileUpTo blocked on a FIFO";
  absl::StatusOr<std::string> read = done.get();
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace card
