// SPDX-License-Identifier: MIT
// FIFOs (fifo(7)) through ipckit::Fifo: two named pipes in the run's private directory, made by
// the supervisor (which owns and unlinks them) and opened by the children. Each child opens its
// read end first (non-blocking open: it needs no writer) and then its write end, which waits for
// the peer's reader until the phase deadline, so the order cannot deadlock.
#include "ipckit/stream/fifo.hpp"

#include "transports/pipe_pair.hpp"
#include "transports/registry.hpp"

#include <array>
#include <optional>

namespace ipckit::bench {
namespace {

class FifoTransport final : public PipePairTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        for (auto [fifo, suffix] : {std::pair{&ping_, "-ping"}, std::pair{&pong_, "-pong"}}) {
            const std::string path = p.temp_dir + "/" + p.tag + suffix;
            IPCKIT_TRY_ASSIGN(auto made, Fifo::create(path));
            fifo->emplace(std::move(made));
            ledger("path", path);
        }
        return {};
    }
    void teardown() noexcept override {
        PipePairTransport::teardown();
        ping_.reset();  // the supervisor's Fifo owns the path and unlinks it
        pong_.reset();
    }

private:
    static Result<PipeReader> open_reader(const Fifo& fifo) {
        IPCKIT_TRY_ASSIGN(auto reader, fifo.open_reader(/*nonblocking_io=*/true));
        IPCKIT_TRY(reader.set_nonblocking(false));  // the read itself blocks, as on a pipe
        return reader;
    }
    static Result<PipeWriter> open_writer(const Fifo& fifo) {
        IPCKIT_TRY_ASSIGN(auto writer, fifo.open_writer_until(phase_deadline()));
        if (!writer) {
            return timed_out("open(O_WRONLY)", fifo.path());
        }
        return std::move(*writer);
    }
    Result<void> open_ends(Role role) override {
        // The leader writes ping and reads pong; the follower the other way round.
        const bool leader = role == Role::Leader;
        IPCKIT_TRY_ASSIGN(auto in, open_reader(leader ? *pong_ : *ping_));
        IPCKIT_TRY_ASSIGN(auto out, open_writer(leader ? *ping_ : *pong_));
        if (leader) {
            set_ends(std::move(out), std::move(in), {}, {});
        } else {
            set_ends({}, {}, std::move(out), std::move(in));
        }
        return {};
    }
    std::optional<Fifo> ping_;
    std::optional<Fifo> pong_;
};

}  // namespace

std::unique_ptr<Transport> make_fifo() {
    return std::make_unique<FifoTransport>();
}

}  // namespace ipckit::bench
