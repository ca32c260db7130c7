// SPDX-License-Identifier: MIT
#include <sys/ipc.h>

#include <gtest/gtest.h>

#include "ipc_registry.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/core/sysv_key.hpp"

namespace ipckit {
namespace {

void expect_rejected(std::string_view name, std::string_view rule, std::errc code = std::errc::invalid_argument) {
    auto r = PosixName::make(name);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code(), code);
    EXPECT_NE(r.error().detail().find(rule), std::string::npos) << r.error().message();
}

TEST(PosixName, AcceptsOrdinaryNames) {
    for (std::string_view ok : {"/jobs", "/a", "/with.dots", "/x-y_z", "/..."}) {
        auto r = PosixName::make(ok);
        ASSERT_TRUE(r) << ok;
        EXPECT_EQ(r->str(), ok);
    }
    EXPECT_EQ(PosixName::make("/jobs")->without_slash(), "jobs");
}

TEST(PosixName, AcceptsTheLongestName) {
    EXPECT_TRUE(PosixName::make("/" + std::string(PosixName::kMaxLength, 'a')));
}

TEST(PosixName, RejectsEachBrokenRuleByName) {
    expect_rejected("jobs", "must start with '/'");
    expect_rejected("", "must start with '/'");
    expect_rejected("/", "is empty after '/'");
    expect_rejected("/a/b", "contains '/'");
    expect_rejected("/.", "'.' or '..'");
    expect_rejected("/..", "'.' or '..'");
    expect_rejected(std::string_view("/a\0b", 4), "NUL");
    expect_rejected("/" + std::string(PosixName::kMaxLength + 1, 'a'), "longer than",
                    std::errc::filename_too_long);
}

TEST(PosixName, ErrorMessageShowsTheNameAndTheRule) {
    auto r = PosixName::make("/a/b");
    EXPECT_EQ(r.error().message(),
              "ipc name '/a/b': Invalid argument (contains '/' after the first character)");
}

TEST(PosixName, HostileLongNamesAreShortenedInErrors) {
    auto r = PosixName::make(std::string(1 << 20, 'x'));
    ASSERT_FALSE(r);
    EXPECT_LT(r.error().message().size(), 200U);
}

TEST(SysvKey, NumbersInRange) {
    EXPECT_EQ(SysvKey::from_number(4587)->value(), 4587);
    EXPECT_EQ(SysvKey::parse("4587")->value(), 4587);
    EXPECT_EQ(SysvKey::parse("0x11eb")->value(), 0x11eb);
    EXPECT_EQ(SysvKey::parse("0xffffffff")->value(), -1);  // key_t is 32-bit signed, as in ipcs
    EXPECT_EQ(SysvKey::from_number(0x11eb)->to_string(), "0x000011eb");
}

TEST(SysvKey, ZeroIsRejectedUnlessSpelledPrivate) {
    auto zero = SysvKey::parse("0");
    ASSERT_FALSE(zero);
    EXPECT_NE(zero.error().detail().find("IPC_PRIVATE"), std::string::npos);
    auto priv = SysvKey::parse("private");
    ASSERT_TRUE(priv);
    EXPECT_TRUE(priv->is_private());
    EXPECT_EQ(priv->value(), IPC_PRIVATE);
}

TEST(SysvKey, OutOfRangeAndGarbageAreRejected) {
    for (std::string_view bad : {"-1", "0x1ffffffff", "99999999999999999999", "abc", "12x", "", "0x"}) {
        auto r = SysvKey::parse(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code(), std::errc::invalid_argument) << bad;
        }
    }
}

TEST(SysvKey, FtokMatchesTheCLibrary) {
    const std::string path = test::run_dir();
    auto k = SysvKey::parse("ftok:" + path + ":7");
    ASSERT_TRUE(k) << k.error().message();
    EXPECT_EQ(k->value(), ::ftok(path.c_str(), 7));
}

TEST(SysvKey, FtokOfAMissingPathNamesIt) {
    auto k = SysvKey::from_path("/nope/ipckit", 1);
    ASSERT_FALSE(k);
    EXPECT_EQ(k.error().message(), "ftok /nope/ipckit: No such file or directory");
}

TEST(SysvKey, FtokIdMustBe1To255) {
    EXPECT_FALSE(SysvKey::from_path("/", 0));
    EXPECT_FALSE(SysvKey::from_path("/", 256));
    EXPECT_FALSE(SysvKey::parse("ftok:/:x"));
    EXPECT_FALSE(SysvKey::parse("ftok:/"));
}

}  // namespace
}  // namespace ipckit
