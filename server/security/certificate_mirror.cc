// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/security/certificate_mirror.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/common/read_file.h"

namespace card::security {
namespace {

// A certificate chain or key is a few kilobytes; anything near this is a mistake.
constexpr size_t kMaxPemBytes = 1 << 20;

constexpr char kCurrent[] = "current";
constexpr char kCertName[] = "cert.pem";
constexpr char kKeyName[] = "key.pem";
constexpr char kClientCaName[] = "client_ca.pem";

struct OpenSslDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
  void operator()(X509* cert) const { X509_free(cert); }
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter>;

OpenSslPtr<BIO> MemoryBio(const std::string& contents) {
  return OpenSslPtr<BIO>(
      BIO_new_mem_buf(contents.data(), static_cast<int>(contents.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

// Every certificate in `pem`, in order. Error naming the field and the path
// if there is none.
absl::StatusOr<std::vector<OpenSslPtr<X509>>> ParseCertificates(absl::string_view field,
                                                                const std::string& path,
                                                                const std::string& pem) {
  OpenSslPtr<BIO> bio = MemoryBio(pem);
  std::vector<OpenSslPtr<X509>> certificates;
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  ERR_clear_error();  // The read that ended the loop left an error behind.
  if (certificates.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", path, ": no PEM certificate in it"));
  }
  return certificates;
}

std::string NotAfter(const X509* certificate) {
  OpenSslPtr<BIO> out(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(out.get(), X509_get0_notAfter(certificate));
  return BioContents(out.get());
}

// The leaf's subject and expiry, for the log. Public parts only: never the key.
std::string DescribeLeaf(const std::string& cert_pem) {
  OpenSslPtr<BIO> bio = MemoryBio(cert_pem);
  OpenSslPtr<X509> leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (leaf == nullptr) return "(no certificate)";
  OpenSslPtr<BIO> out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(leaf.get()), 0, XN_FLAG_RFC2253);
  return absl::StrCat("\"", BioContents(out.get()), "\", valid until ",
                      NotAfter(leaf.get()));
}

absl::StatusOr<std::string> ReadField(absl::string_view field, const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFileUpTo(path, kMaxPemBytes);
  if (!contents.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", contents.status().message()));
  }
  return contents;
}

// The server's own certificate and key: present, matching, not expired. gRPC
// would otherwise take them and fail every handshake, with the reason only
// in its own logs.
absl::Status CheckIdentity(const CertificateFiles& files, const CertificatePem& pem) {
  absl::StatusOr<std::vector<OpenSslPtr<X509>>> chain =
      ParseCertificates("security.tls_cert_file", files.cert_file, pem.cert);
  if (!chain.ok()) return chain.status();
  X509* leaf = chain->front().get();
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.tls_cert_file ", files.cert_file,
                     ": the certificate expired (", NotAfter(leaf), ")"));
  }
  OpenSslPtr<BIO> bio = MemoryBio(pem.key);
  OpenSslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.tls_key_file ", files.key_file,
                     ": no unencrypted PEM private key in it"));
  }
  bool matches = X509_check_private_key(leaf, key.get()) == 1;
  ERR_clear_error();
  if (!matches) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.tls_key_file ", files.key_file,
                     " is not the key of the certificate in security.tls_cert_file ",
                     files.cert_file));
  }
  return absl::OkStatus();
}

std::string Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
}

absl::Status Failed(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Creates `path` (it must not exist) with `contents`, mode 0600, and the
// given modification time.
absl::Status WritePrivateFile(const std::string& path, const std::string& contents,
                              absl::Time mtime) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Failed("cannot create", path);
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status error = Failed("cannot write", path);
      close(fd);
      return error;
    }
    written += static_cast<size_t>(n);
  }
  struct timespec times[2];
  times[0] = absl::ToTimespec(mtime);
  times[1] = times[0];
  if (futimens(fd, times) != 0) {
    absl::Status error = Failed("cannot set the time of", path);
    close(fd);
    return error;
  }
  if (close(fd) != 0) return Failed("cannot write", path);
  return absl::OkStatus();
}

std::string GenerationName(int generation) { return absl::StrCat("gen-", generation); }

void RemoveTree(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

}  // namespace

absl::StatusOr<CertificatePem> ReadCheckedCertificateFiles(
    const CertificateFiles& files) {
  CertificatePem pem;
  absl::StatusOr<std::string> cert = ReadField("security.tls_cert_file", files.cert_file);
  if (!cert.ok()) return cert.status();
  pem.cert = *std::move(cert);
  absl::StatusOr<std::string> key = ReadField("security.tls_key_file", files.key_file);
  if (!key.ok()) return key.status();
  pem.key = *std::move(key);
  absl::Status identity = CheckIdentity(files, pem);
  if (!identity.ok()) return identity;
  if (!files.client_ca_file.empty()) {
    absl::StatusOr<std::string> roots =
        ReadField("security.tls_client_ca_file", files.client_ca_file);
    if (!roots.ok()) return roots.status();
    pem.client_ca = *std::move(roots);
    absl::StatusOr<std::vector<OpenSslPtr<X509>>> parsed = ParseCertificates(
        "security.tls_client_ca_file", files.client_ca_file, pem.client_ca);
    if (!parsed.ok()) return parsed.status();
  }
  return pem;
}

absl::StatusOr<std::unique_ptr<CertificateMirror>> CertificateMirror::Create(
    CertificateFiles files, absl::Duration reload_interval) {
  absl::StatusOr<CertificatePem> pem = ReadCheckedCertificateFiles(files);
  if (!pem.ok()) return pem.status();
  const char* tmpdir = getenv("TMPDIR");
  std::string pattern = absl::StrCat(
      tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp", "/card-server-tls.XXXXXX");
  // mkdtemp makes the directory 0700: the key's copy is readable by no one else.
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create a private directory for the TLS files (", pattern,
                     "; set TMPDIR to a writable directory): ", std::strerror(errno)));
  }
  std::unique_ptr<CertificateMirror> mirror(
      new CertificateMirror(std::move(files), std::move(pattern)));
  {
    absl::MutexLock lock(&mirror->mu_);
    absl::Status published = mirror->Publish(*pem);
    if (!published.ok()) return published;  // The destructor removes the directory.
    mirror->served_ = *std::move(pem);
    mirror->served_since_ = Now();
  }
  log::Info(absl::StrCat("tls: serving private copies in ", mirror->directory_,
                         " of the files read without blocking from ",
                         mirror->files_.cert_file, ", ", mirror->files_.key_file,
                         mirror->files_.client_ca_file.empty()
                             ? std::string()
                             : absl::StrCat(" and ", mirror->files_.client_ca_file),
                         "; re-read every ", absl::FormatDuration(reload_interval)));
  CertificateMirror* self = mirror.get();
  mirror->reloader_ =
      std::make_unique<PeriodicTask>(reload_interval, [self] { self->Reload(); });
  return mirror;
}

CertificateMirror::CertificateMirror(CertificateFiles files, std::string directory)
    : files_(std::move(files)), directory_(std::move(directory)) {}

CertificateMirror::~CertificateMirror() {
  // Reload never blocks (ReadFileUpTo opens with O_NONBLOCK and refuses what
  // is not a regular file), so this returns within one reload's work.
  if (reloader_) reloader_->Stop();
  RemoveTree(directory_);
}

std::string CertificateMirror::cert_path() const {
  return absl::StrCat(directory_, "/", kCurrent, "/", kCertName);
}

std::string CertificateMirror::key_path() const {
  return absl::StrCat(directory_, "/", kCurrent, "/", kKeyName);
}

std::string CertificateMirror::client_ca_path() const {
  if (files_.client_ca_file.empty()) return "";
  return absl::StrCat(directory_, "/", kCurrent, "/", kClientCaName);
}

void CertificateMirror::Reload() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<CertificatePem> pem = ReadCheckedCertificateFiles(files_);
  absl::Status status = pem.status();
  if (status.ok() && *pem == served_) {
    last_error_.clear();
    return;
  }
  if (status.ok()) status = Publish(*pem);
  if (!status.ok()) {
    std::string error(status.message());
    if (error != last_error_) {
      log::Warning(absl::StrCat("tls: ", error, "; still serving the files loaded ",
                                served_since_, ": ", DescribeLeaf(served_.cert)));
    }
    last_error_ = std::move(error);
    return;
  }
  last_error_.clear();
  served_ = *std::move(pem);
  served_since_ = Now();
  log::Info(absl::StrCat("tls: reloaded ", files_.cert_file, ", ", files_.key_file,
                         files_.client_ca_file.empty()
                             ? std::string()
                             : absl::StrCat(" and ", files_.client_ca_file),
                         "; new connections get ", DescribeLeaf(served_.cert)));
}

absl::Status CertificateMirror::Publish(const CertificatePem& pem) {
  const int generation = generation_ + 1;
  const std::string name = GenerationName(generation);
  const std::string dir = absl::StrCat(directory_, "/", name);
  // gRPC compares whole-second mtimes before and after reading the key and
  // the certificate: each generation's must differ from the last one's.
  absl::Time mtime = std::max(absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())),
                              generation_mtime_ + absl::Seconds(1));
  absl::Status written = absl::OkStatus();
  if (mkdir(dir.c_str(), 0700) != 0) written = Failed("cannot create", dir);
  if (written.ok()) {
    written = WritePrivateFile(absl::StrCat(dir, "/", kKeyName), pem.key, mtime);
  }
  if (written.ok()) {
    written = WritePrivateFile(absl::StrCat(dir, "/", kCertName), pem.cert, mtime);
  }
  if (written.ok() && !files_.client_ca_file.empty()) {
    written =
        WritePrivateFile(absl::StrCat(dir, "/", kClientCaName), pem.client_ca, mtime);
  }
  // The whole generation at once: a new link, renamed over `current`.
  const std::string link = absl::StrCat(directory_, "/", kCurrent, ".new");
  if (written.ok() && symlink(name.c_str(), link.c_str()) != 0) {
    written = Failed("cannot create", link);
  }
  const std::string current = absl::StrCat(directory_, "/", kCurrent);
  if (written.ok() && rename(link.c_str(), current.c_str()) != 0) {
    written = Failed("cannot replace", current);
    unlink(link.c_str());
  }
  if (!written.ok()) {
    RemoveTree(dir);
    return written;
  }
  generation_ = generation;
  generation_mtime_ = mtime;
  // The generation before the previous one: gRPC may still be reading the
  // previous one (it re-reads if so), never an older one.
  if (generation > 2)
    RemoveTree(absl::StrCat(directory_, "/", GenerationName(generation - 2)));
  return absl::OkStatus();
}

}  // namespace card::security
