// SPDX-License-Identifier: MIT
#include "ipckit/socket/socket_address.hpp"

#include <gtest/gtest.h>

namespace ipckit {
namespace {

TEST(SocketAddress, PathTooLongNamesTheLengthAndTheLimit) {
    const std::string path = "/tmp/" + std::string(150, 'x');
    auto a = SocketAddress::unix_domain(path);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code(), std::errc::filename_too_long);
    EXPECT_NE(a.error().message().find("socket path is 155 bytes"), std::string::npos)
        << a.error().message();
    EXPECT_NE(a.error().message().find("at most 107"), std::string::npos);
}

TEST(SocketAddress, LongestPathFits) {
    const std::string path = "/" + std::string(SocketAddress::kMaxUnixPathLength - 1, 'p');
    auto a = SocketAddress::unix_domain(path);
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_TRUE(a->is_path());
    EXPECT_EQ(a->path(), path);
    EXPECT_FALSE(SocketAddress::unix_domain(path + "p"));
}

TEST(SocketAddress, EmptyPathAndEmptyAbstractNameAreRejected) {
    auto empty = SocketAddress::unix_domain("");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code(), std::errc::invalid_argument);
    auto at = SocketAddress::unix_domain("@");
    ASSERT_FALSE(at);
    EXPECT_EQ(at.error().code(), std::errc::invalid_argument);
    EXPECT_NE(at.error().message().find("abstract socket name must not be empty"),
              std::string::npos);
    EXPECT_FALSE(SocketAddress::unix_domain(std::string("/tmp/a\0b", 8)));
}

TEST(SocketAddress, AbstractNamesPrintWithAnAt) {
    auto a = SocketAddress::unix_domain("@ipckit-demo");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->is_abstract());
    EXPECT_FALSE(a->is_path());
    EXPECT_EQ(a->to_string(), "@ipckit-demo");
    EXPECT_EQ(a->path(), "");
    EXPECT_EQ(*a, SocketAddress::unix_abstract("ipckit-demo").value());
}

TEST(SocketAddress, InternetAddressesAreNumericOnly) {
    auto v4 = SocketAddress::ipv4("127.0.0.1", 8080);
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->to_string(), "127.0.0.1:8080");
    EXPECT_EQ(v4->port(), 8080);
    EXPECT_EQ(*v4, SocketAddress::loopback_v4(8080));
    auto v6 = SocketAddress::ipv6("::1", 9);
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->to_string(), "[::1]:9");
    EXPECT_EQ(*v6, SocketAddress::loopback_v6(9));
    auto name = SocketAddress::ipv4("localhost", 1);
    ASSERT_FALSE(name);
    EXPECT_EQ(name.error().code(), std::errc::invalid_argument);
    EXPECT_FALSE(SocketAddress::ipv6("127.0.0.1", 1));
}

TEST(SocketAddress, AutobindIsUnnamedUntilBound) {
    EXPECT_TRUE(SocketAddress::unix_autobind().is_unnamed());
    EXPECT_EQ(SocketAddress::unix_autobind().to_string(), "(unnamed)");
}

}  // namespace
}  // namespace ipckit
