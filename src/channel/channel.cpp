// SPDX-License-Identifier: MIT
#include "ipckit/channel/channel.hpp"

#include "ipckit/channel/group_consumer.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "channel/channel_file.hpp"
#include "sys/syscall.hpp"

namespace ipckit {

using detail::ChannelFile;
using detail::Role;

Result<std::string> Channel::validate_name(std::string_view name) {
    return detail::validate_channel_name(name);
}

Result<void> Channel::create(std::string_view name, const ChannelConfig& config) {
    IPCKIT_TRY(ChannelFile::create(name, config, Role::Inspector));
    return {};
}

Result<void> Channel::remove(std::string_view name_in, const ChannelOptions& options) {
    IPCKIT_TRY_ASSIGN(auto name, detail::validate_channel_name(name_in));
    std::string dir_path;
    IPCKIT_TRY_ASSIGN(auto dir, detail::open_channel_dir(options.dir, &dir_path));
    const std::string file = name + ".chan";
    IPCKIT_TRY(sys::call(
        "unlink", dir_path + "/" + file, [&] { return ::unlinkat(dir.get(), file.c_str(), 0); }));
    return {};
}

namespace {

/// The members of group `gi`: live and dead consumers, what they took and hold.
void describe_members(const ChannelFile& f, std::uint32_t gi, ChannelGroupInfo& gr) {
    const auto& g = f.geometry();
    for (std::uint32_t m = 0; m < g.max_group_members; ++m) {
        const auto& mh = f.member(gi, m);
        if (mh.state.load(std::memory_order_acquire) == detail::Free) {
            continue;
        }
        auto alive = f.locked_by_other(f.member_off(gi, m));
        ++(alive && *alive ? gr.consumers : gr.dead_consumers);
        gr.received += mh.received.load(std::memory_order_relaxed);
        for (std::uint32_t k = 0; k < g.max_loans; ++k) {
            const bool used = f.entry(gi, m, k).pos.load(std::memory_order_relaxed) != detail::kNoPos;
            gr.in_flight += used ? 1U : 0U;
        }
    }
}

/// A forged group name made printable: [A-Za-z0-9._-] kept, every other byte as \xNN.
std::string escape_forged_name(const std::string& raw) {
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out;
    for (const char c : raw) {
        const auto b = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '_' || c == '-') {
            out += c;
        } else {
            out += {'\\', 'x', kHex.at(b >> 4U), kHex.at(b & 0xFU)};
        }
    }
    return out.empty() ? std::string("\\x00") : out;
}

void describe_groups(const ChannelFile& f, ChannelInfo& info) {
    const auto& g = f.geometry();
    const std::uint32_t hw =
        std::min(f.header().lanes_hw.load(std::memory_order_acquire), g.max_publishers);
    for (std::uint32_t gi = 0; gi < g.max_groups; ++gi) {
        const auto& gh = f.group(gi);
        if (gh.state.load(std::memory_order_acquire) != detail::Active) {
            continue;
        }
        ChannelGroupInfo gr;
        for (const auto& c : gh.name) {
            const char ch = c.load(std::memory_order_relaxed);
            if (ch == '\0') {
                break;
            }
            gr.name += ch;
        }
        // The name is the file's bytes: a forged one is shown escaped (\xNN), never passed on
        // raw (it reached `ipckit stat --json` and made the JSON writer throw on invalid UTF-8).
        if (!GroupConsumer::validate_group_name(gr.name)) {
            gr.name = escape_forged_name(gr.name);
        }
        gr.at_most_once = gh.delivery.load(std::memory_order_relaxed) == detail::AtMostOnceWord;
        gr.redelivered = gh.redelivered.load(std::memory_order_relaxed);
        gr.lost = gh.lost.load(std::memory_order_relaxed);
        gr.corrupt = gh.corrupt.load(std::memory_order_relaxed);
        describe_members(f, gi, gr);
        for (std::uint32_t l = 0; l < hw; ++l) {
            const std::uint64_t c = f.claim(gi, l).load(std::memory_order_relaxed);
            const std::uint64_t t = f.pub(l).tail.load(std::memory_order_acquire);
            gr.claims.push_back(c);
            const std::uint64_t d = t - c;
            gr.backlog.push_back(static_cast<std::int64_t>(d) > 0 && d <= g.lane_bytes ? d : 0);
        }
        info.groups.push_back(std::move(gr));
    }
}

ChannelInfo describe(const ChannelFile& f, const std::string& dir) {
    const auto& g = f.geometry();
    ChannelInfo info;
    info.name = f.name();
    info.path = dir + "/" + f.name() + ".chan";
    info.policy = static_cast<ChannelPolicy>(g.policy);
    info.lane_bytes = g.lane_bytes;
    info.max_message_size = g.max_message_size;
    info.max_publishers = g.max_publishers;
    info.max_subscribers = g.max_subscribers;
    info.max_loans = g.max_loans;
    info.file_size = g.file_size;
    for (std::uint32_t i = 0; i < g.max_publishers; ++i) {
        const auto& p = f.pub(i);
        const std::uint32_t st = p.state.load(std::memory_order_acquire);
        auto alive = f.locked_by_other(f.pub_lock_off(i));
        const bool live = alive && *alive;
        if (st == detail::Free && !live) {
            continue;
        }
        ChannelParticipantInfo pi;
        pi.index = i;
        pi.pid = static_cast<pid_t>(p.pid.load(std::memory_order_relaxed));
        pi.alive = live;
        pi.messages = p.published.load(std::memory_order_relaxed);
        info.publishers.push_back(pi);
    }
    for (std::uint32_t i = 0; i < g.max_subscribers; ++i) {
        const auto& s = f.sub(i);
        const std::uint32_t st = s.state.load(std::memory_order_acquire);
        auto alive = f.locked_by_other(f.sub_lock_off(i));
        const bool live = alive && *alive;
        if (st == detail::Free && !live) {
            continue;
        }
        ChannelParticipantInfo si;
        si.index = i;
        si.pid = static_cast<pid_t>(s.pid.load(std::memory_order_relaxed));
        si.alive = live;
        si.messages = s.received.load(std::memory_order_relaxed);
        si.lost = s.lost.load(std::memory_order_relaxed);
        si.corrupt = s.corrupt.load(std::memory_order_relaxed);
        for (std::uint32_t l = 0; l < g.max_publishers; ++l) {
            const std::uint64_t t = f.pub(l).tail.load(std::memory_order_acquire);
            const std::uint64_t h = f.hold(i, l).load(std::memory_order_relaxed);
            const std::uint64_t d = t - h;
            if (static_cast<std::int64_t>(d) > 0 && d <= g.lane_bytes && d > si.depth) {
                si.depth = d;
            }
        }
        info.subscribers.push_back(si);
    }
    describe_groups(f, info);
    return info;
}

}  // namespace

Result<ChannelInfo> Channel::inspect(std::string_view name, const ChannelOptions& options) {
    IPCKIT_TRY_ASSIGN(auto f, ChannelFile::open(name, options, Role::Inspector));
    std::string dir_path;
    IPCKIT_TRY(detail::open_channel_dir(options.dir, &dir_path));
    return describe(f, dir_path);
}

Result<std::vector<ChannelInfo>> Channel::list(const ChannelOptions& options) {
    std::string dir_path;
    IPCKIT_TRY_ASSIGN(auto dir, detail::open_channel_dir(options.dir, &dir_path));
    const int dup = ::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
        return sys::last_error("fcntl(F_DUPFD_CLOEXEC)", dir_path);
    }
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
        ::close(dup);
        return sys::last_error("fdopendir", dir_path);
    }
    std::vector<ChannelInfo> out;
    ChannelOptions o = options;
    o.dir = dir_path;
    o.init_wait = std::chrono::milliseconds(0);
    while (const dirent* e = ::readdir(d)) {
        std::string_view n(e->d_name);
        if (n.size() <= 5 || !n.ends_with(".chan")) {
            continue;
        }
        n.remove_suffix(5);
        auto f = ChannelFile::open(n, o, Role::Inspector);
        if (f) {
            out.push_back(describe(*f, dir_path));
        }
    }
    ::closedir(d);
    return out;
}

Result<std::uint32_t> Channel::cleanup_dead(std::string_view name, const ChannelOptions& options) {
    IPCKIT_TRY_ASSIGN(auto f, ChannelFile::open(name, options, Role::Subscriber));
    const auto& g = f.geometry();
    std::uint32_t freed = 0;
    auto clean = [&](std::uint64_t lock_off, detail::A32& state) -> Result<void> {
        if (state.load(std::memory_order_acquire) == detail::Free) {
            return {};
        }
        IPCKIT_TRY_ASSIGN(auto got, f.try_lock(lock_off));
        if (!got) {
            return {};  // alive (or being cleaned by someone else right now)
        }
        if (state.load(std::memory_order_acquire) != detail::Free) {
            state.store(detail::Free, std::memory_order_release);
            ++freed;
        }
        f.unlock(lock_off);
        return {};
    };
    for (std::uint32_t i = 0; i < g.max_publishers; ++i) {
        IPCKIT_TRY(clean(f.pub_lock_off(i), f.pub(i).state));
    }
    for (std::uint32_t i = 0; i < g.max_subscribers; ++i) {
        IPCKIT_TRY(clean(f.sub_lock_off(i), f.sub(i).state));
    }
    return freed;
}

}  // namespace ipckit
