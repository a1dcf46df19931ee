// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// CertificateMirror (server/security/certificate_mirror.h): what gRPC reads
// changes only to files read without blocking and checked; a refused file
// keeps the last good copies and is logged once.
#include "server/security/certificate_mirror.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace card::security {
namespace {

std::string Contents(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// Renames a sibling over `path`, as operators are told to (and as works over
// a FIFO without opening it).
void Replace(const std::string& path, const std::string& contents) {
  std::ofstream(path + ".new", std::ios::binary) << contents;
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
}

int Mode(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int>(info.st_mode & 0777);
}

time_t ModificationTime(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return 0;
  return info.st_mtime;
}

class CertificateMirrorTest : public ::testing::Test {
 protected:
  // Two server identities, a and b, from one CA (scripts/lib/certs.sh).
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/card-mirror-certs.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    certs_ = pattern;
    std::string command = absl::StrCat(
        "bash -c 'set -e; source ", CARD_SOURCE_DIR, "/scripts/lib/certs.sh; cd ", certs_,
        "; card_ca . ca; card_cert . ca a a DNS:a; card_cert . ca b b DNS:b'");
    ASSERT_EQ(std::system(command.c_str()), 0);
  }
  static void TearDownTestSuite() {
    ASSERT_EQ(std::system(absl::StrCat("rm -rf ", certs_).c_str()), 0);
  }

  void SetUp() override {
    char pattern[] = "/tmp/card-mirror-test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    // The private directory goes under TMPDIR: here, inside dir_.
    ASSERT_EQ(mkdir((dir_ + "/tmp").c_str(), 0700), 0);
    ASSERT_EQ(setenv("TMPDIR", (dir_ + "/tmp").c_str(), 1), 0);
    files_ = {dir_ + "/server.crt", dir_ + "/server.key", dir_ + "/ca.crt"};
    Install("a");
    Replace(files_.client_ca_file, Certs("ca.crt"));
  }
  void TearDown() override {
    unsetenv("TMPDIR");
    ASSERT_EQ(std::system(absl::StrCat("rm -rf ", dir_).c_str()), 0);
  }

  static std::string Certs(const std::string& name) {
    return Contents(absl::StrCat(certs_, "/", name));
  }
  void Install(const std::string& identity) {
    Replace(files_.key_file, Certs(identity + ".key"));
    Replace(files_.cert_file, Certs(identity + ".crt"));
  }
  // Reloads only when the test says so.
  std::unique_ptr<CertificateMirror> Mirror() {
    absl::StatusOr<std::unique_ptr<CertificateMirror>> mirror =
        CertificateMirror::Create(files_, absl::Hours(1));
    EXPECT_TRUE(mirror.ok()) << mirror.status();
    return mirror.ok() ? *std::move(mirror) : nullptr;
  }
  void ExpectServing(const CertificateMirror& mirror, const std::string& identity) {
    EXPECT_EQ(Contents(mirror.cert_path()), Certs(identity + ".crt"));
    EXPECT_EQ(Contents(mirror.key_path()), Certs(identity + ".key"));
  }

  static std::string certs_;
  std::string dir_;
  CertificateFiles files_;
};

std::string CertificateMirrorTest::certs_;

TEST_F(CertificateMirrorTest, CopiesArePrivateAndGoWithTheMirror) {
  std::unique_ptr<CertificateMirror> mirror = Mirror();
  ASSERT_NE(mirror, nullptr);
  EXPECT_EQ(mirror->directory().rfind(dir_ + "/tmp/card-server-tls.", 0), 0u)
      << mirror->directory();
  EXPECT_EQ(Mode(mirror->directory()), 0700);
  EXPECT_EQ(Mode(mirror->key_path()), 0600);
  ExpectServing(*mirror, "a");
  EXPECT_EQ(Contents(mirror->client_ca_path()), Certs("ca.crt"));
  std::string directory = mirror->directory();
  mirror.reset();
  EXPECT_EQ(Mode(directory), -1) << directory << " left behind";
}

TEST_F(CertificateMirrorTest, FifoIsRefusedAtOnceLoggedOnceAndTheLastCopiesKept) {
  std::unique_ptr<CertificateMirror> mirror = Mirror();
  ASSERT_NE(mirror, nullptr);
  for (const std::string* path :
       {&files_.cert_file, &files_.key_file, &files_.client_ca_file}) {
    std::string saved = Contents(*path);
    ASSERT_EQ(std::remove(path->c_str()), 0);
    ASSERT_EQ(mkfifo(path->c_str(), 0600), 0);
    ::testing::internal::CaptureStderr();
    absl::Time start = absl::Now();
    mirror->Reload();
    mirror->Reload();
    absl::Duration took = absl::Now() - start;
    std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_LT(took, absl::Seconds(1));
    std::string refusal = absl::StrCat(*path, ": not a regular file");
    size_t first = log.find(refusal);
    EXPECT_NE(first, std::string::npos) << log;
    EXPECT_EQ(log.find(refusal, first + 1), std::string::npos) << "logged twice: " << log;
    ExpectServing(*mirror, "a");
    Replace(*path, saved);
  }
}

TEST_F(CertificateMirrorTest, KeyOfAnotherCertificateIsRefused) {
  std::unique_ptr<CertificateMirror> mirror = Mirror();
  ASSERT_NE(mirror, nullptr);
  Replace(files_.key_file, Certs("b.key"));  // The certificate is still a's.
  ::testing::internal::CaptureStderr();
  mirror->Reload();
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("is not the key of the certificate"), std::string::npos) << log;
  // The log names files, never their contents.
  EXPECT_EQ(log.find("PRIVATE KEY"), std::string::npos) << log;
  ExpectServing(*mirror, "a");
}

TEST_F(CertificateMirrorTest, ValidPairReplacesBothWithALaterModificationTime) {
  std::unique_ptr<CertificateMirror> mirror = Mirror();
  ASSERT_NE(mirror, nullptr);
  time_t before = ModificationTime(mirror->cert_path());
  Install("b");
  mirror->Reload();
  ExpectServing(*mirror, "b");
  // gRPC re-reads when a whole-second mtime changed under its reads: every
  // generation's must be later than the one before, even within one second.
  EXPECT_GT(ModificationTime(mirror->cert_path()), before);
  EXPECT_EQ(ModificationTime(mirror->key_path()), ModificationTime(mirror->cert_path()));
  time_t b_time = ModificationTime(mirror->cert_path());
  Install("a");
  mirror->Reload();
  ExpectServing(*mirror, "a");
  EXPECT_GT(ModificationTime(mirror->cert_path()), b_time);
}

TEST_F(CertificateMirrorTest, StartUpRefusesAFifoNamingTheFlag) {
  ASSERT_EQ(std::remove(files_.key_file.c_str()), 0);
  ASSERT_EQ(mkfifo(files_.key_file.c_str(), 0600), 0);
  absl::StatusOr<std::unique_ptr<CertificateMirror>> mirror =
      CertificateMirror::Create(files_, absl::Hours(1));
  ASSERT_FALSE(mirror.ok());
  EXPECT_EQ(mirror.status().message(),
            absl::StrCat("security.tls_key_file: cannot read ", files_.key_file,
                         ": not a regular file"));
}

}  // namespace
}  // namespace card::security
