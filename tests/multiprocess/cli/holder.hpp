// SPDX-License-Identifier: MIT
// A child process that takes hold of an IPC object (maps, attaches, opens) and keeps it until
// released: the "live user" the ls/rm tests need.
#pragma once

#include <unistd.h>

#include <functional>
#include <optional>

#include "forked_child.hpp"

namespace ipckit::test {

class Holder {
public:
    /// Forks a child that runs `take()` (true = holding), tells us, and waits until release()
    /// or the test ends. Returns nullopt if the child could not take hold.
    static std::optional<Holder> start(std::function<bool()> take) {
        int ready[2];
        int release[2];
        if (::pipe(ready) != 0 || ::pipe(release) != 0) {
            return std::nullopt;
        }
        auto child = ForkedChild::spawn([=] {
            ::close(ready[0]);
            ::close(release[1]);
            const char ok = take() ? 'y' : 'n';
            (void)!::write(ready[1], &ok, 1);
            char c = 0;
            (void)!::read(release[0], &c, 1);  // EOF when the parent releases or dies
            return ok == 'y' ? 0 : 1;
        });
        ::close(ready[1]);
        ::close(release[0]);
        char ok = 0;
        const bool got = ::read(ready[0], &ok, 1) == 1 && ok == 'y';
        ::close(ready[0]);
        if (!got) {
            ::close(release[1]);
            return std::nullopt;
        }
        return Holder(std::move(child), release[1]);
    }

    Holder(Holder&& other) noexcept : child_(std::move(other.child_)), release_fd_(other.release_fd_) {
        other.release_fd_ = -1;
    }
    Holder& operator=(Holder&&) = delete;
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;
    ~Holder() {
        if (release_fd_ >= 0) {
            ::close(release_fd_);
        }
    }

    [[nodiscard]] pid_t pid() const { return child_.pid(); }
    /// Lets the child exit and reaps it.
    ChildResult release() {
        // A byte, not just EOF: later holders' children inherited our write end too.
        const char c = 'r';
        (void)!::write(release_fd_, &c, 1);
        ::close(release_fd_);
        release_fd_ = -1;
        return child_.wait_for(std::chrono::seconds(10));
    }

private:
    Holder(ForkedChild child, int release_fd) : child_(std::move(child)), release_fd_(release_fd) {}
    ForkedChild child_;
    int release_fd_;
};

}  // namespace ipckit::test
