// SPDX-License-Identifier: MIT
#include <sys/syscall.h>

#include <gtest/gtest.h>

#include "forked_child.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/futex.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(Futex, WaitReturnsAtOnceWhenTheValueDiffers) {
    std::atomic<std::uint32_t> word{5};
    auto r = Futex::wait(word, 4, Deadline::after(10s));
    ASSERT_TRUE(r);
    EXPECT_TRUE(*r);
}

TEST(Futex, WaitTimesOutAsAnOrdinaryOutcome) {
    std::atomic<std::uint32_t> word{0};
    auto r = Futex::wait(word, 0, Deadline::after(20ms));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(*r);
}

TEST(Futex, WakesAWaiterInAnotherProcess) {
    auto shared = Mapping::map_anonymous(4096).value();
    auto* word = new (shared.data()) std::atomic<std::uint32_t>(0);
    auto child = test::ForkedChild::spawn([word] {
        while (word->load() == 0) {
            auto r = Futex::wait(*word, 0, Deadline::after(10s));
            CHILD_CHECK(r && *r);  // woken, not timed out
        }
        return word->load() == 1 ? 0 : 2;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_futex, 10s));
    word->store(1);
    int woken = 0;
    for (int i = 0; i < 100 && woken == 0; ++i) {  // the child may be between load and wait
        woken = Futex::wake(*word, 1).value();
        if (woken == 0) {
            std::this_thread::sleep_for(1ms);
        }
    }
    EXPECT_EQ(woken, 1);
    EXPECT_CHILD_OK(child.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
