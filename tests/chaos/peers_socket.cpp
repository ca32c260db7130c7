// SPDX-License-Identifier: MIT
// ipckit_chaos: Unix datagram and framed Unix stream senders and receivers.
#include "chaos.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/socket/listener.hpp"
#include "ipckit/socket/socket.hpp"
#include "ipckit/stream/framing.hpp"

#include <poll.h>

#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>

namespace chaos {

using namespace std::chrono_literals;
using ipckit::Deadline;

namespace {

std::string dgram_name(const PeerContext& ctx, std::uint32_t slot) {
    return ctx.names->prefix + "-d" + std::to_string(slot);
}

std::string stream_path(const PeerContext& ctx, std::uint32_t index) {
    return ctx.names->sock_dir + "/r" + std::to_string(index) + ".sock";
}

/// Starts connection `n` of a sender at `seq` (a contiguous run until the next one).
bool add_conn(SenderSlot& s, std::uint32_t target, std::uint64_t seq, std::uint32_t& n) {
    n = s.n_conns.load(std::memory_order_relaxed);
    if (n == kMaxConns) {
        return false;
    }
    s.conns[n].target = target;
    s.conns[n].end.store(0, std::memory_order_relaxed);
    s.conns[n].first_seq = seq;
    s.n_conns.store(n + 1, std::memory_order_release);
    return true;
}

bool is(const ipckit::Error& e, std::errc c) {
    return e.code() == c;
}

}  // namespace

// ---- datagrams: one abstract-named socket per receiver incarnation

int run_dgram_receiver(PeerContext& ctx) {
    ReceiverSlot& r = ctx.arena->receiver(ctx.slot);
    Header& h = ctx.arena->header();
    auto addr = ipckit::SocketAddress::unix_abstract(dgram_name(ctx, ctx.slot));
    if (!addr) {
        return fail(r, addr.error().message());
    }
    auto sock = ipckit::Socket::bind(*addr, ipckit::SocketType::Datagram);
    if (!sock) {
        return fail(r, "bind: " + sock.error().message());
    }
    h.current[ctx.peer].store(ctx.slot, std::memory_order_release);
    r.state.store(kReady, std::memory_order_release);
    std::unordered_map<std::uint64_t, Stream*> streams;
    std::array<std::byte, kMaxMessage> buf{};
    for (;;) {
        r.critical.store(1, std::memory_order_release);
        auto got = sock->receive(buf, Deadline::after(50ms));
        if (!got) {
            return fail(r, "receive: " + got.error().message());
        }
        if (!*got) {
            r.critical.store(0, std::memory_order_release);
            if (h.drain.load(std::memory_order_acquire) != 0) {
                break;
            }
            continue;
        }
        MsgHeader m{};
        if (!parse_message(std::span(buf).first(**got), m)) {
            r.bad.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        if (m.sender >= ctx.arena->sender_slots() || m.conn >= kMaxConns) {
            r.misrouted.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        Stream*& st = streams[(std::uint64_t{m.sender} << 32) | m.conn];
        if (st == nullptr) {
            st = add_stream(r, m.sender, m.conn);
            if (st == nullptr) {
                r.state.store(kRetired, std::memory_order_release);
                return 0;
            }
        }
        if (ctx.options->inject_loss && st->count.load() > 10 && take_injection(h)) {
            r.injected.store(1);
            continue;
        }
        record_contiguous(r, *st, m.seq);
        r.received.fetch_add(1, std::memory_order_relaxed);
        r.critical.store(0, std::memory_order_release);
    }
    r.state.store(kClean, std::memory_order_release);
    return 0;
}

int run_dgram_sender(PeerContext& ctx) {
    SenderSlot& s = ctx.arena->sender(ctx.slot);
    Header& h = ctx.arena->header();
    auto sock = ipckit::Socket::open(ipckit::AddressFamily::Unix, ipckit::SocketType::Datagram);
    if (!sock) {
        return fail(s, "socket: " + sock.error().message());
    }
    s.state.store(kReady, std::memory_order_release);
    const std::uint32_t receivers = ctx.options->receivers;
    std::uint32_t index = ctx.peer % receivers;
    std::uint32_t conn = kNone;
    std::uint64_t left = 0;
    std::optional<ipckit::SocketAddress> to;
    std::array<std::byte, kMaxMessage> buf{};
    std::uint64_t idle_since = now_ns();
    std::uint32_t failures = 0;
    for (std::uint64_t seq = 0;;) {
        if (h.stop_senders.load(std::memory_order_acquire) != 0) {
            break;
        }
        if (conn == kNone || left == 0) {
            // Move to the next receiver incarnation that is up.
            std::uint32_t target = kNone;
            for (std::uint32_t i = 0; i < receivers && target == kNone; ++i) {
                index = (index + 1) % receivers;
                target = h.current[index].load(std::memory_order_acquire);
            }
            if (target == kNone) {
                if (now_ns() - idle_since > 5'000'000'000ULL) {
                    return fail(s, "hang: no receiver reachable for 5 s");
                }
                std::this_thread::sleep_for(1ms);
                continue;
            }
            if (!add_conn(s, target, seq, conn)) {
                s.state.store(kRetired, std::memory_order_release);
                return 0;
            }
            auto a = ipckit::SocketAddress::unix_abstract(dgram_name(ctx, target));
            if (!a) {
                return fail(s, a.error().message());
            }
            to = *a;
            left = 2000 + ctx.rng() % 18000;
        }
        const auto m = std::span(buf).first(random_size(ctx.rng, kHeaderSize, kMaxMessage));
        build_message(m, kMagic, ctx.slot, conn, seq, 0);
        s.progress.store(2 * seq + 1, std::memory_order_release);
        auto sent = sock->send_to(m, *to, Deadline::after(200ms));
        if (sent) {
            s.progress.store(2 * (seq + 1), std::memory_order_release);
            ++seq;
            --left;
            failures = 0;
            idle_since = now_ns();
            continue;
        }
        // A datagram is sent whole or not at all: nothing of `seq` went out.
        s.progress.store(2 * seq, std::memory_order_release);
        const ipckit::Error& e = sent.error();
        if (is(e, std::errc::connection_refused) || is(e, std::errc::no_such_file_or_directory) ||
            is(e, std::errc::timed_out) || is(e, std::errc::resource_unavailable_try_again)) {
            s.conns[conn].end.store(2, std::memory_order_relaxed);
            conn = kNone;  // gone, stopped or full: the next receiver
            if (now_ns() - idle_since > 5'000'000'000ULL) {
                return fail(s, "hang: no datagram accepted for 5 s (" + e.message() + ")");
            }
            if (++failures % receivers == 0) {
                // Every receiver is down (restarting): wait instead of filling the table.
                std::this_thread::sleep_for(1ms);
            }
            continue;
        }
        return fail(s, "send_to: " + e.message());
    }
    s.state.store(kClean, std::memory_order_release);
    return 0;
}

// ---- framed stream: a path per receiver index, one connection per sender at a time

namespace {

struct Connection {
    ipckit::Socket sock;
    ipckit::FrameReader reader;
    Stream* stream = nullptr;
    bool opened = false;
    bool done = false;
};

}  // namespace

int run_stream_receiver(PeerContext& ctx) {
    ReceiverSlot& r = ctx.arena->receiver(ctx.slot);
    Header& h = ctx.arena->header();
    auto addr = ipckit::SocketAddress::unix_domain(stream_path(ctx, ctx.peer));
    if (!addr) {
        return fail(r, addr.error().message());
    }
    // A killed predecessor left its socket file: bind removes it once a connect is refused.
    auto listener = ipckit::Listener::bind(*addr, ipckit::SocketType::Stream);
    if (!listener) {
        return fail(r, "Listener::bind: " + listener.error().message());
    }
    r.state.store(kReady, std::memory_order_release);
    std::vector<std::unique_ptr<Connection>> conns;
    std::vector<pollfd> fds;
    bool retire = false;
    while (!retire) {
        fds.clear();
        fds.push_back(pollfd{listener->native_handle(), POLLIN, 0});
        for (auto& c : conns) {
            fds.push_back(pollfd{c->sock.native_handle(), POLLIN, 0});
        }
        const int n = ::poll(fds.data(), fds.size(), 50);
        if (n < 0 && errno != EINTR) {
            return fail(r, std::string("poll: ") + std::strerror(errno));
        }
        bool accepted = false;
        for (;;) {
            auto a = listener->try_accept();
            if (!a) {
                return fail(r, "accept: " + a.error().message());
            }
            if (!*a) {
                break;
            }
            accepted = true;
            // The hello names this incarnation, so the sender knows whose buffer its frames are in.
            const std::uint32_t hello = ctx.slot;
            auto sent = (*a)->send(std::as_bytes(std::span(&hello, 1)), Deadline::after(1s));
            if (!sent) {
                continue;  // the sender is already gone
            }
            const int fd = (*a)->native_handle();
            conns.push_back(std::unique_ptr<Connection>(
                new Connection{std::move(**a),
                               ipckit::FrameReader(fd, kMaxFrame, "chaos"),
                               nullptr,
                               false,
                               false}));
        }
        for (auto& c : conns) {
            for (;;) {
                r.critical.store(1, std::memory_order_release);
                auto f = c->reader.read(Deadline::now());
                if (!f) {
                    const ipckit::Error& e = f.error();
                    if (is(e, ipckit::FrameReader::kEndOfStream)) {
                        if (c->stream != nullptr) {
                            c->stream->end.store(1, std::memory_order_release);
                        }
                        c->done = true;
                        break;
                    }
                    if (is(e, std::errc::connection_aborted)) {
                        r.truncated.fetch_add(1, std::memory_order_relaxed);
                        if (c->stream != nullptr) {
                            c->stream->end.store(2, std::memory_order_release);
                        }
                    } else if (c->stream != nullptr) {
                        c->stream->end.store(3, std::memory_order_release);
                    }
                    c->done = true;
                    break;
                }
                if (!*f) {
                    break;  // nothing more now (progress on a frame is kept)
                }
                const std::vector<std::byte>& frame = **f;
                MsgHeader m{};
                if (!c->opened) {
                    if (!parse_message(frame, m, kOpenMagic) ||
                        m.sender >= ctx.arena->sender_slots() || m.conn >= kMaxConns) {
                        r.bad.fetch_add(1, std::memory_order_relaxed);
                        c->done = true;
                        break;
                    }
                    c->opened = true;
                    c->stream = add_stream(r, m.sender, m.conn);
                    if (c->stream == nullptr) {
                        retire = true;
                        break;
                    }
                    continue;
                }
                if (!parse_message(frame, m)) {
                    r.bad.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                if (m.sender != c->stream->sender || m.conn != c->stream->conn) {
                    r.misrouted.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                if (ctx.options->inject_loss && c->stream->count.load() > 10 && take_injection(h)) {
                    r.injected.store(1);
                    continue;
                }
                record_contiguous(r, *c->stream, m.seq);
                r.received.fetch_add(1, std::memory_order_relaxed);
            }
            r.critical.store(0, std::memory_order_release);
            if (retire) {
                break;
            }
        }
        std::erase_if(conns, [](const auto& c) { return c->done; });
        if (h.drain.load(std::memory_order_acquire) != 0 && conns.empty() && !accepted) {
            break;  // every sender has exited and every connection has ended
        }
    }
    r.state.store(retire ? kRetired : kClean, std::memory_order_release);
    return 0;
}

int run_stream_sender(PeerContext& ctx) {
    SenderSlot& s = ctx.arena->sender(ctx.slot);
    Header& h = ctx.arena->header();
    s.state.store(kReady, std::memory_order_release);
    const std::uint32_t receivers = ctx.options->receivers;
    std::uint32_t index = ctx.peer % receivers;
    std::optional<ipckit::Socket> sock;
    std::uint32_t conn = kNone;
    std::uint64_t left = 0;
    std::vector<std::byte> buf(kMaxFrame);
    std::uint64_t idle_since = now_ns();
    for (std::uint64_t seq = 0;;) {
        if (h.stop_senders.load(std::memory_order_acquire) != 0) {
            break;
        }
        if (!sock) {
            if (now_ns() - idle_since > 5'000'000'000ULL) {
                return fail(s, "hang: no receiver accepted a connection for 5 s");
            }
            index = (index + 1) % receivers;
            auto addr = ipckit::SocketAddress::unix_domain(stream_path(ctx, index));
            if (!addr) {
                return fail(s, addr.error().message());
            }
            auto c =
                ipckit::Socket::connect(*addr, ipckit::SocketType::Stream, Deadline::after(1s));
            if (!c) {
                std::this_thread::sleep_for(1ms);  // not listening (restarting) or backlog full
                continue;
            }
            const std::uint32_t n = s.n_conns.load(std::memory_order_relaxed);
            if (n == kMaxConns) {
                s.state.store(kRetired, std::memory_order_release);
                return 0;
            }
            std::array<std::byte, kHeaderSize> open{};
            build_message(open, kOpenMagic, ctx.slot, n, seq, 0);
            if (!ipckit::write_frame(c->native_handle(),
                                     open,
                                     ipckit::FdKind::Socket,
                                     Deadline::after(1s),
                                     "chaos")) {
                continue;
            }
            std::uint32_t hello = kNone;
            auto got = ipckit::read_exact(c->native_handle(),
                                          std::as_writable_bytes(std::span(&hello, 1)),
                                          Deadline::after(2s),
                                          "chaos");
            if (!got || *got != sizeof hello) {
                continue;  // the receiver died before accepting us
            }
            if (hello >= ctx.arena->receiver_slots()) {
                return fail(s, "hello names receiver slot " + std::to_string(hello));
            }
            std::uint32_t added = 0;
            add_conn(s, hello, seq, added);
            conn = added;
            sock.emplace(std::move(*c));
            left = 2000 + ctx.rng() % 18000;
        }
        const std::size_t size = ctx.rng() % 8 == 0 ? random_size(ctx.rng, kHeaderSize, kMaxFrame)
                                                    : random_size(ctx.rng, kHeaderSize, 512);
        const auto m = std::span(buf).first(size);
        build_message(m, kMagic, ctx.slot, conn, seq, 0);
        s.progress.store(2 * seq + 1, std::memory_order_release);
        auto sent = ipckit::write_frame(sock->native_handle(),
                                        m,
                                        ipckit::FdKind::Socket,
                                        Deadline::after(5s),
                                        "chaos",
                                        kMaxFrame);
        if (sent) {
            s.progress.store(2 * (seq + 1), std::memory_order_release);
            ++seq;
            idle_since = now_ns();
            if (--left == 0) {
                s.conns[conn].end.store(1, std::memory_order_release);
                sock.reset();
            }
            continue;
        }
        s.progress.store(2 * seq, std::memory_order_release);
        const ipckit::Error& e = sent.error();
        if (is(e, std::errc::broken_pipe) || is(e, std::errc::connection_reset)) {
            // The receiver died: what it had not read is lost with it (counted at the end).
            s.conns[conn].end.store(2, std::memory_order_release);
            sock.reset();
            continue;
        }
        return fail(s, "write_frame: " + e.message());
    }
    if (sock) {
        s.conns[conn].end.store(1, std::memory_order_release);
        sock.reset();
    }
    s.state.store(kClean, std::memory_order_release);
    return 0;
}

}  // namespace chaos
