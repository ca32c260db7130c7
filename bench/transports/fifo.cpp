// SPDX-License-Identifier: MIT
// FIFOs (mkfifo(3)): two named pipes in the run's private directory, opened by the children in
// an order that cannot deadlock (ping first, then pong, on both sides); the supervisor unlinks
// them. (Switches to ipckit's Fifo when that wrapper lands.)
#include "transports/fd_pair.hpp"
#include "transports/registry.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace ipckit::bench {
namespace {

class FifoTransport final : public FdPairTransport {
public:
    FifoTransport() : FdPairTransport(Framing::Stream, false) {}
    Result<void> setup(const SetupParams& p) override {
        ping_ = p.temp_dir + "/" + p.tag + "-ping";
        pong_ = p.temp_dir + "/" + p.tag + "-pong";
        for (const auto* path : {&ping_, &pong_}) {
            if (::mkfifo(path->c_str(), 0600) != 0) {
                return Error::from_errno(errno, "mkfifo", *path);
            }
            made_.push_back(*path);
            ledger("path", *path);
        }
        set_object(ping_);
        return {};
    }
    void teardown() noexcept override {
        FdPairTransport::teardown();
        for (const auto& path : made_) {
            ::unlink(path.c_str());
        }
        made_.clear();
    }

private:
    static Result<int> open_fifo(const std::string& path, int flags) {
        for (;;) {
            const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
            if (fd >= 0) {
                return fd;
            }
            if (errno == EINTR && retry_after_eintr()) {
                continue;
            }
            if (errno == EINTR) {
                return timed_out("open", path);
            }
            return Error::from_errno(errno, "open", path);
        }
    }
    Result<void> open_ends(Role role) override {
        const bool leader = role == Role::Leader;
        auto first = open_fifo(ping_, leader ? O_WRONLY : O_RDONLY);
        if (!first) {
            return first.error();
        }
        auto second = open_fifo(pong_, leader ? O_RDONLY : O_WRONLY);
        if (!second) {
            ::close(*first);
            return second.error();
        }
        if (leader) {
            set_fds(*first, *second, -1, -1);
        } else {
            set_fds(-1, -1, *second, *first);
        }
        return {};
    }
    std::string ping_;
    std::string pong_;
    std::vector<std::string> made_;
};

}  // namespace

std::unique_ptr<Transport> make_fifo() {
    return std::make_unique<FifoTransport>();
}

}  // namespace ipckit::bench
