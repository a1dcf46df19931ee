// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The server's certificate, key and client CA as gRPC reads them: private
// copies of the operator's files, never the operator's paths themselves.
//
// Why: gRPC's FileWatcherCertificateProvider re-reads its paths on a thread of
// its own with a plain blocking open(). A FIFO put at an operator's path (a
// mistake, or anyone with write access to that directory) would hang that
// thread for good: a valid file written later never takes effect, and
// shutdown waits on the thread forever. So the operator's files are read
// here, with ReadFileUpTo (O_NONBLOCK, regular files only, bounded size),
// checked as start-up checks them, and only then copied where gRPC looks.
//
// Layout of the private directory (mkdtemp under $TMPDIR or /tmp, mode 0700,
// removed by the destructor):
//
//   DIR/current -> gen-N        the generation gRPC reads
//   DIR/gen-N/cert.pem, key.pem, client_ca.pem   (mode 0600)
//
// A change is a new generation directory, complete before one rename of the
// `current` link makes it visible, so a key and a certificate from different
// generations are never both on the path at once. gRPC reads the key and the
// certificate with two separate opens and retries when either file's mtime
// (whole seconds) differs before and after its reads; every generation's
// files get an mtime at least one second later than the previous one's, so a
// swap in the middle of gRPC's reads makes it read again instead of taking a
// mismatched pair.
//
// A refused file (unreadable, not a regular file, not PEM, a key that is not
// the certificate's, an expired certificate) is logged once per distinct
// error, and the last good generation keeps being served.
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/exec/periodic_task.h"

namespace card::security {

// The operator's files (the --tls_* flags). client_ca_file may be empty.
struct CertificateFiles {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
};

// The files' contents, as read and checked.
struct CertificatePem {
  std::string cert;
  std::string key;
  std::string client_ca;

  bool operator==(const CertificatePem& other) const {
    return cert == other.cert && key == other.key && client_ca == other.client_ca;
  }
};

// Reads `files` without blocking and checks them: a certificate chain and
// an unencrypted key that belong together, the leaf not expired, and (if
// configured) at least one client CA certificate. INVALID_ARGUMENT naming the
// field (security.tls_cert_file, ...) and the path otherwise.
absl::StatusOr<CertificatePem> ReadCheckedCertificateFiles(const CertificateFiles& files);

class CertificateMirror {
 public:
  // Reads and checks `files`, writes the first generation, and re-reads them
  // every `reload_interval` from then on. An error (start-up must stop) names
  // the field.
  static absl::StatusOr<std::unique_ptr<CertificateMirror>> Create(
      CertificateFiles files, absl::Duration reload_interval);
  // Stops the reloads (none blocks: see above) and removes the directory.
  ~CertificateMirror();

  CertificateMirror(const CertificateMirror&) = delete;
  CertificateMirror& operator=(const CertificateMirror&) = delete;

  // What to give FileWatcherCertificateProvider. client_ca_path() is empty
  // without a client CA.
  std::string cert_path() const;
  std::string key_path() const;
  std::string client_ca_path() const;
  const std::string& directory() const { return directory_; }

  // Re-reads the operator's files now (the reload task calls this). Public
  // for tests.
  void Reload() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  CertificateMirror(CertificateFiles files, std::string directory);

  // Writes `pem` as the next generation and points `current` at it.
  absl::Status Publish(const CertificatePem& pem) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CertificateFiles files_;
  const std::string directory_;
  // One Reload at a time; guards what is served.
  absl::Mutex mu_;
  CertificatePem served_ ABSL_GUARDED_BY(mu_);
  std::string served_since_ ABSL_GUARDED_BY(mu_);
  int generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time generation_mtime_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // The last refusal logged, so each distinct one is logged once.
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<PeriodicTask> reloader_;  // Last: stops before the rest goes.
};

}  // namespace card::security
