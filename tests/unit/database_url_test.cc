#include "server/storage/database_url.h"

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

}  // namespace
}  // namespace card::storage
