// SPDX-License-Identifier: MIT
// Ownership: the policy an open of an existing object checks its owner against (D14).
#include "ipckit/core/ownership.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

// A uid that is not ours (ours is 65533 only in an odd test setup; then use 65532).
uid_t stranger() {
    return ::geteuid() == 65533 ? 65532 : 65533;
}

TEST(Ownership, DefaultTrustsOnlyTheEffectiveUid) {
    const Ownership o;
    EXPECT_TRUE(o.trusts(::geteuid()));
    EXPECT_FALSE(o.trusts(stranger()));
    EXPECT_FALSE(o.trusts_any());
    EXPECT_TRUE(o.check(::geteuid(), "mq_open", "/q"));
    EXPECT_TRUE(o.check(::geteuid(), ::geteuid(), "msgget", "key 1"));
}

TEST(Ownership, RootIsNotTrustedUnlessItIsUs) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "we are root";
    }
    EXPECT_FALSE(Ownership().trusts(0));
}

TEST(Ownership, RefusalIsPermissionDeniedInItsOwnCategoryAndNamesTheOwner) {
    const auto r = Ownership().check(65534, "mq_open", "/jobs");
    ASSERT_FALSE(r);
    const Error& e = r.error();
    EXPECT_EQ(e, std::errc::permission_denied);  // existing EACCES checks keep working
    EXPECT_TRUE(is_untrusted_owner(e));
    EXPECT_EQ(e.code().category(), ownership_category());
    EXPECT_EQ(e.errno_name(), "EACCES");
    EXPECT_EQ(e.errno_value(), EACCES);
    const std::string me = "not by you (uid " + std::to_string(::geteuid()) + ")";
    EXPECT_EQ(e.message(),
              "mq_open /jobs: untrusted owner (owned by " + describe_user(65534) + ", " + me + ")");
    EXPECT_NE(e.detail().find("uid 65534"), std::string::npos) << e.message();
}

TEST(Ownership, KernelPermissionDeniedIsNotAnOwnershipRefusal) {
    const Error kernel = Error::from_errno(EACCES, "mq_open", "/jobs");
    EXPECT_FALSE(is_untrusted_owner(kernel));
}

TEST(Ownership, DescribeUserNamesKnownUsers) {
    EXPECT_EQ(describe_user(0), "root (uid 0)");
    EXPECT_EQ(describe_user(4000000000U), "uid 4000000000");  // no passwd entry
}

TEST(Ownership, TrustedUidsAreAccepted) {
    Ownership o;
    o.trust(stranger()).trust(4000000000U);
    EXPECT_TRUE(o.trusts(stranger()));
    EXPECT_TRUE(o.check(stranger(), "shm_open", "/x"));
    EXPECT_TRUE(o.trusts(::geteuid()));  // still ourselves
    const auto r = o.check(4000000001U, "shm_open", "/x");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail().find("trusted owner (uid " + std::to_string(stranger()) +
                                      " 4000000000)"),
              std::string::npos)
        << r.error().message();
    EXPECT_TRUE(Ownership().trust(7).trusts(7));  // chains on a temporary too
}

TEST(Ownership, AnyTrustsEveryone) {
    const Ownership o = Ownership::any();
    EXPECT_TRUE(o.trusts_any());
    EXPECT_TRUE(o.check(stranger(), stranger(), "semget", "key 1"));
}

TEST(Ownership, SystemVCreatorMustBeTrustedToo) {
    // The owner can give a queue away with IPC_SET: a squatter's queue can show our uid as owner.
    const auto r = Ownership().check(::geteuid(), 65534, "msgget", "key 0x1");
    ASSERT_FALSE(r);
    EXPECT_TRUE(is_untrusted_owner(r.error()));
    EXPECT_NE(r.error().detail().find("created by " + describe_user(65534)), std::string::npos)
        << r.error().message();
    const auto owner_first = Ownership().check(65534, ::geteuid(), "msgget", "key 0x1");
    ASSERT_FALSE(owner_first);
    EXPECT_NE(owner_first.error().detail().find("owned by " + describe_user(65534)),
              std::string::npos);
}

}  // namespace
}  // namespace ipckit
