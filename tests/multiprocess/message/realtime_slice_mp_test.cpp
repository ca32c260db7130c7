// SPDX-License-Identifier: MIT
// B36's mechanism without touching the host clock: mq_timedreceive only takes an absolute
// CLOCK_REALTIME timeout, so PosixMq arms it for at most Deadline::kRealtimeSlice and lets the
// monotonic deadline decide. The parent reads the timespec the blocked child actually passed to
// the kernel (/proc/PID/syscall gives the pointer, process_vm_readv the value) and checks that it
// lies within one slice of now, although the child's deadline is 30 s away.
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/message/posix_mq.hpp"

#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// The n-th argument (1-based) of the system call `pid` is blocked in, from /proc/PID/syscall.
std::optional<unsigned long> syscall_arg(pid_t pid, int n) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
    std::string line;
    if (!std::getline(in, line)) {
        return std::nullopt;
    }
    std::istringstream fields(line);
    std::vector<std::string> tokens;
    for (std::string t; fields >> t;) {
        tokens.push_back(t);
    }
    if (static_cast<int>(tokens.size()) <= n) {
        return std::nullopt;
    }
    return std::stoul(tokens[static_cast<std::size_t>(n)], nullptr, 16);
}

TEST(RealtimeSlice, TimedReceiveIsArmedForAtMostOneSlice) {
    const auto name = PosixName::make(test::unique_mq_name()).value();
    auto q = PosixMq::create(name).value();
    auto child = test::ForkedChild::spawn([&] {
        auto in = PosixMq::open(name, Access::ReadOnly);
        CHILD_CHECK(in);
        auto m = in->receive_for(30s);
        CHILD_CHECK(m && m->has_value() && (*m)->text() == "done");
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_mq_timedreceive, 10s));
    const auto ptr = syscall_arg(child.pid(), 5);  // abs_timeout
    ASSERT_TRUE(ptr.has_value());
    ASSERT_NE(*ptr, 0UL) << "a finite deadline must pass a timeout";
    timespec armed{};
    iovec local{&armed, sizeof armed};
    iovec remote{reinterpret_cast<void*>(*ptr), sizeof armed};  // NOLINT: an address in the child
    ASSERT_EQ(::process_vm_readv(child.pid(), &local, 1, &remote, 1, 0),
              static_cast<ssize_t>(sizeof armed))
        << "cannot read the child's memory";
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    const auto ahead = std::chrono::seconds(armed.tv_sec - now.tv_sec) +
                       std::chrono::nanoseconds(armed.tv_nsec - now.tv_nsec);
    EXPECT_LE(ahead, Deadline::kRealtimeSlice)
        << "armed " << ahead.count() << " ns ahead of the wall clock";
    q.send("done").value();
    EXPECT_CHILD_OK(child.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
