// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ipckit/core/unique_fd.hpp"

namespace ipckit {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(UniqueFd, DefaultIsInvalid) {
    UniqueFd fd;
    EXPECT_FALSE(fd.valid());
    EXPECT_EQ(fd.get(), -1);
}

TEST(UniqueFd, ClosesOnDestruction) {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(raw, 0);
    { UniqueFd fd(raw); EXPECT_TRUE(is_open(raw)); }
    EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, MoveTransfersOwnershipAndEmptiesTheSource) {
    UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int raw = a.get();
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): testing the moved-from state
    EXPECT_EQ(b.get(), raw);
    UniqueFd c;
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_TRUE(is_open(raw));
}

TEST(UniqueFd, MoveAssignClosesThePreviousDescriptor) {
    UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    UniqueFd b(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int old = a.get();
    a = std::move(b);
    EXPECT_FALSE(is_open(old));
}

TEST(UniqueFd, ReleaseGivesUpOwnershipWithoutClosing) {
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int raw = fd.release();
    EXPECT_FALSE(fd.valid());
    EXPECT_TRUE(is_open(raw));
    ::close(raw);
}

TEST(UniqueFd, ResetClosesAndAdopts) {
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int first = fd.get();
    const int second = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    fd.reset(second);
    EXPECT_FALSE(is_open(first));
    EXPECT_EQ(fd.get(), second);
    fd.reset();
    EXPECT_FALSE(is_open(second));
}

TEST(UniqueFdDeathTest, DoubleCloseIsACaughtContractViolation) {
    EXPECT_DEATH(
        {
            const int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            UniqueFd fd(raw);
            ::close(raw);  // someone else closed our descriptor: a bug the destructor reports
        },
        "did not own");
}

}  // namespace
}  // namespace ipckit
