// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/storage/database_url.h"

#include <utility>

#include "gtest/gtest.h"

namespace card::storage {
namespace {

TEST(ConnectionString, AddsKeepalivesUnlessSet) {
  absl::StatusOr<std::string> connection =
      ConnectionString("postgresql://card:pw@db.internal:5433/cards?keepalives_idle=30");
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_NE(connection->find("host='db.internal'"), std::string::npos) << *connection;
  EXPECT_NE(connection->find("port='5433'"), std::string::npos);
  EXPECT_NE(connection->find("dbname='cards'"), std::string::npos);
  EXPECT_NE(connection->find("keepalives_idle='30'"),
            std::string::npos);  // the URL's own
  EXPECT_EQ(connection->find("keepalives_idle=5"), std::string::npos);
  EXPECT_NE(connection->find("keepalives_count=3"), std::string::npos);
  EXPECT_NE(connection->find("tcp_user_timeout=15000"), std::string::npos);
}

TEST(ConnectionString, QuotesValues) {
  absl::StatusOr<std::string> connection =
      ConnectionString("host=h password='it\\'s\\\\x'");
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_NE(connection->find("password='it\\'s\\\\x'"), std::string::npos) << *connection;
}

TEST(ConnectionString, MalformedUrlNeverEchoesThePassword) {
  for (const char* url :
       {"postgresql://card:S3cretPW@[::1/db", "postgresql://card:S3cret%zzPW@h/db",
        "host=h password='S3cretPW"}) {
    absl::StatusOr<std::string> connection = ConnectionString(url);
    ASSERT_FALSE(connection.ok()) << url;
    EXPECT_EQ(connection.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(connection.status().ToString().find("S3cret"), std::string::npos)
        << connection.status();
  }
  EXPECT_FALSE(ConnectionString("").ok());
}

// Refused before any connection, in libpq's words: retrying cannot help.
TEST(ConnectionString, NamesWhatLibpqRejects) {
  const std::pair<const char*, const char*> cases[] = {
      {"postgresql://u:S3cretPW@127.0.0.1:notaport/db",
       "invalid integer value \"notaport\" for connection option \"port\""},
      {"postgresql://u@h:70000/db", "invalid port number: \"70000\""},
      {"postgresql://u:S3cretPW@h/db?foo=bar", "invalid URI query parameter: \"foo\""},
      {"host=h foo=bar password=S3cretPW", "invalid connection option \"foo\""},
      {"postgresql://u@h/db?sslmode=bogus", "invalid sslmode value: \"bogus\""},
      {"postgresql://u@h/db?connect_timeout=5s",
       "invalid integer value \"5s\" for connection option \"connect_timeout\""},
  };
  for (const auto& [url, reason] : cases) {
    absl::StatusOr<std::string> connection = ConnectionString(url);
    ASSERT_FALSE(connection.ok()) << url;
    EXPECT_EQ(connection.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(connection.status().message().find(reason), absl::string_view::npos)
        << connection.status();
    EXPECT_EQ(connection.status().ToString().find("S3cret"), std::string::npos);
  }
  // Multi-host: one port per host, an empty one meaning the default.
  EXPECT_TRUE(ConnectionString("postgresql://u@h1:5432,h2/db").ok());
  // The password quoted as a value is still withheld.
  absl::StatusOr<std::string> same = ConnectionString("host=h password=70000 port=70000");
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.status().message().find("70000"), absl::string_view::npos)
      << same.status();
}

// libpq quotes the offending part, which may be the password, or a piece of it.
TEST(ConnectionString, RedactsThePasswordFromLibpqsMessage) {
  for (const char* url :
       {"postgresql://card:S3cret%zzPW@h/db", "postgresql://card:S3cretPW@[::1/db",
        "host=h password=S3cret PW=x", "postgresql://h/db?password=S3cret%zzPW",
        "host=h password=S3cretPW port=notaport",
        // Unencoded '/' and '@' in the password: libpq reads a piece of it
        // as the port or the host, and quotes that piece.
        "postgresql://card:S3cret/PW@h/db", "postgresql://card:S3cr:et/PW@h/db",
        "postgresql://card:S3c@retPW@h:notaport/db"}) {
    absl::StatusOr<std::string> connection = ConnectionString(url);
    ASSERT_FALSE(connection.ok()) << url;
    EXPECT_EQ(connection.status().ToString().find("S3cret"), std::string::npos)
        << connection.status();
    EXPECT_EQ(connection.status().ToString().find("PW"), std::string::npos)
        << connection.status();
  }
}

}  // namespace
}  // namespace card::storage
