// SPDX-License-Identifier: MIT
// Creating and opening an event file: the channel's protocol (channel_file.cpp) on a simpler
// layout. Create: exclusive open with mode 0200 ("initialising"), OFD lock on byte 0, every block
// reserved (posix_fallocate), header written, magic stored last with release, final mode. Open:
// bounded wait for the magic (the creator's lock tells "still initialising" from "creator died"),
// then every header field checked against fstat before the whole file is mapped.
#include "event/event_file.hpp"

#include "channel/channel_file.hpp"
#include "ipckit/core/deadline.hpp"
#include "shm/fd_backing.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

namespace ipckit::detail {

namespace {

std::string num(std::uint64_t v) {
    return std::to_string(v);
}
std::string octal(unsigned v) {
    char buf[8];
    const int n = std::snprintf(buf, sizeof buf, "0%o", v);
    return {buf, static_cast<std::size_t>(n)};
}

Result<void> check_max_ids(std::uint32_t max_ids, const char* op, const std::string& object) {
    if (max_ids == 0 || max_ids > Event::kMaxIds) {
        return Error(std::errc::invalid_argument,
                     op,
                     object,
                     "max_ids=" + num(max_ids) + " must be 1.." + num(Event::kMaxIds));
    }
    return {};
}

/// OFD write lock on byte 0: true if taken, false if another open file description holds it.
Result<bool> try_lock0(int fd, const std::string& path) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_len = 1;
    IPCKIT_TRY_ASSIGN(auto r, sys::call_maybe("fcntl(F_OFD_SETLK)", path, {EAGAIN, EACCES}, [&] {
                          return ::fcntl(fd, F_OFD_SETLK, &fl);
                      }));
    return r.has_value();
}

void unlock0(int fd) noexcept {
    struct flock fl {};
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    fl.l_len = 1;
    (void)::fcntl(fd, F_OFD_SETLK, &fl);
}

/// True if another open file description holds byte 0 (the creator, still initialising).
Result<bool> creator_busy(int fd, const std::string& path) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_len = 1;
    IPCKIT_TRY(
        sys::call("fcntl(F_OFD_GETLK)", path, [&] { return ::fcntl(fd, F_OFD_GETLK, &fl); }));
    return fl.l_type != F_UNLCK;
}

/// The channel's open policy: a regular file, an accepted owner, not group/world-writable unless
/// allowed, exactly one link.
Result<void> fstat_check(int fd, const std::string& path, const EventOptions& o, struct stat* out) {
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", path, [&] { return ::fstat(fd, &st); }));
    if (!S_ISREG(st.st_mode)) {
        return Error(std::errc::wrong_protocol_type, "event open", path, "not a regular file");
    }
    IPCKIT_TRY(o.ownership.check(st.st_uid, "event open", path));
    if ((st.st_mode & 022) != 0 && !o.allow_shared_write) {
        return Error(std::errc::permission_denied,
                     "event open",
                     path,
                     "group- or world-writable (mode " + octal(st.st_mode & 0777) +
                         "); set allow_shared_write to accept");
    }
    if (st.st_nlink != 1) {
        return Error(std::errc::permission_denied,
                     "event open",
                     path,
                     "link count " + num(st.st_nlink) + " (expected 1)");
    }
    *out = st;
    return {};
}

const EventHeader& header_of(const Mapping& head) noexcept {
    return *reinterpret_cast<const EventHeader*>(head.data());  // NOLINT
}

bool initialised(const Mapping& head) noexcept {
    return head.valid() && header_of(head).magic.load(std::memory_order_acquire) == kEventMagic;
}

struct Located {
    UniqueFd dir;
    std::string file;
    std::string path;
};

Result<Located> locate(const std::string& name, const std::string& dir_option) {
    Located l;
    std::string dir_path;
    IPCKIT_TRY_ASSIGN(l.dir, open_channel_dir(dir_option, &dir_path));
    l.file = name + std::string(kEventSuffix);
    l.path = dir_path + "/" + l.file;
    return l;
}

}  // namespace

std::uint64_t event_file_size(std::uint32_t max_ids) noexcept {
    return round_up(kEventHeaderBytes + std::uint64_t{max_ids} * kCounterBytes,
                    Mapping::page_size());
}

Result<std::string> validate_event_name(std::string_view name) {
    if (name.starts_with("event:")) {
        name.remove_prefix(6);
    }
    // validate_channel_name would strip "chan:": an event name has no scheme but its own.
    auto v = name.starts_with("chan:") ? Result<std::string>(Error(std::errc::invalid_argument, ""))
                                       : validate_channel_name(name);
    if (!v) {
        return Error(std::errc::invalid_argument,
                     "event name",
                     std::string(name.substr(0, 64)),
                     v.error().detail().empty()
                         ? std::string("only [A-Za-z0-9._-] allowed (no '/', ':', NUL or spaces)")
                         : v.error().detail());
    }
    return v;
}

Result<void> EventImpl::check_usable(const char* op) const {
    const auto& h = header();
    const std::uint64_t magic = h.magic.load(std::memory_order_relaxed);
    const std::uint32_t version = h.layout_version.load(std::memory_order_relaxed);
    // After the reads: they are what faults on a file truncated under us.
    if (guard.faulted()) {
        return Error(std::errc::bad_address,
                     op,
                     object(),
                     "a SIGBUS hit the event file's mapping (truncated under us); remove it "
                     "(Event::remove) and create it again");
    }
    if (magic != kEventMagic || version != kEventLayoutVersion) {
        return Error(std::errc::bad_message,
                     op,
                     object(),
                     "corrupt header: magic=" + num(magic) + " layout_version=" + num(version));
    }
    return {};
}

Result<void> EventImpl::check_intact(const char* op) const {
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", object(), [&] { return ::fstat(fd.get(), &st); }));
    if (st.st_nlink == 0) {
        return Error(std::errc::identifier_removed, op, object(), "the event file was removed");
    }
    if (static_cast<std::uint64_t>(st.st_size) < file_size) {
        return Error(std::errc::bad_address,
                     op,
                     object(),
                     "the event file was truncated to " +
                         num(static_cast<std::uint64_t>(st.st_size)) + " of " + num(file_size) +
                         " bytes under us");
    }
    return check_usable(op);
}

Result<std::unique_ptr<EventImpl>> EventImpl::create(std::string_view name_in,
                                                     const EventConfig& config) {
    IPCKIT_TRY_ASSIGN(auto name, validate_event_name(name_in));
    IPCKIT_TRY(check_max_ids(config.max_ids, "event create", "event:" + name));
    IPCKIT_TRY_ASSIGN(auto where, locate(name, config.options.dir));
    // 0200 = "initialising": openers see no magic yet and the creator's lock on byte 0.
    IPCKIT_TRY_ASSIGN(auto raw, sys::call("open", where.path, [&] {
                          return ::openat(where.dir.get(),
                                          where.file.c_str(),
                                          O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                          0200);
                      }));
    auto impl = std::make_unique<EventImpl>();
    impl->fd = UniqueFd(raw);
    impl->name = name;
    impl->max_ids = config.max_ids;
    impl->file_size = event_file_size(config.max_ids);
    auto init = [&]() -> Result<void> {
        IPCKIT_TRY_ASSIGN(auto locked, try_lock0(impl->fd.get(), where.path));
        if (!locked) {
            return Error(std::errc::device_or_resource_busy, "event create", where.path);
        }
        // Every block reserved now: a full tmpfs is ENOSPC here, never a SIGBUS on first touch.
        IPCKIT_TRY(detail::fd_resize(impl->fd.get(), where.path, 0, impl->file_size));
        IPCKIT_TRY_ASSIGN(impl->map,
                          Mapping::map(impl->fd.get(),
                                       impl->file_size,
                                       0,
                                       Protection::ReadWrite,
                                       Sharing::Shared,
                                       where.path));
        impl->guard = detail::SigbusGuard::watch(impl->map);
        auto& h = impl->header();
        h.layout_version.store(kEventLayoutVersion, std::memory_order_relaxed);
        h.layout_hash.store(event_layout_hash(), std::memory_order_relaxed);
        h.file_size.store(impl->file_size, std::memory_order_relaxed);
        h.max_ids.store(impl->max_ids, std::memory_order_relaxed);
        h.creator_pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
        h.magic.store(kEventMagic, std::memory_order_release);
        IPCKIT_TRY(sys::call("fchmod", where.path, [&] {
            return ::fchmod(impl->fd.get(), config.permissions.bits());
        }));
        return {};
    };
    if (auto r = init(); !r) {
        (void)::unlinkat(where.dir.get(), where.file.c_str(), 0);
        return std::move(r).error();
    }
    unlock0(impl->fd.get());
    impl->seen.assign(impl->max_ids, 0);
    return impl;
}

namespace {

/// Why a file with no live creator and no magic cannot be opened.
Error init_failure(const Mapping& head, const struct stat& st, const std::string& obj) {
    const EventHeader* h = head.valid() ? &header_of(head) : nullptr;
    if ((st.st_mode & 0777) == 0200) {
        const std::uint32_t pid = h != nullptr ? h->creator_pid.load(std::memory_order_relaxed) : 0;
        return {std::errc::state_not_recoverable,
                "event open",
                obj,
                "initialisation never completed (creator" +
                    (pid != 0 ? " pid " + num(pid) : std::string()) +
                    " is dead); remove it (Event::remove / ipckit rm)"};
    }
    const std::uint64_t magic = h != nullptr ? h->magic.load(std::memory_order_relaxed) : 0;
    return {std::errc::bad_message,
            "event open",
            obj,
            "corrupt header: magic=" + num(magic) + ", file size " +
                num(static_cast<std::uint64_t>(st.st_size))};
}

/// open()'s bounded wait for the creator to publish the magic; returns the first page mapped
/// read-only and the file's last fstat. The creator's lock on byte 0 tells "still initialising"
/// from "creator died half-way".
/// The first page, read-only, watched: a peer truncating the file while open() reads the header
/// makes the reads zeros (and open fail) instead of killing us with SIGBUS.
struct HeadView {
    Mapping map;
    detail::SigbusGuard guard;  // after the mapping: stops watching before it is unmapped
};

Result<void> wait_initialised(int fd,
                              const std::string& path,
                              const std::string& obj,
                              const EventOptions& options,
                              struct stat* st,
                              HeadView& view) {
    const std::uint64_t page = Mapping::page_size();
    const Deadline until = Deadline::after(options.init_wait);
    Mapping& head = view.map;
    for (;;) {
        IPCKIT_TRY(fstat_check(fd, path, options, st));
        // Only a file at least one page long is looked at (a shorter one would SIGBUS).
        if (static_cast<std::uint64_t>(st->st_size) >= page && !head.valid()) {
            IPCKIT_TRY_ASSIGN(
                head, Mapping::map(fd, page, 0, Protection::ReadOnly, Sharing::Shared, path));
            view.guard = detail::SigbusGuard::watch(head);
        }
        if (initialised(head)) {
            return {};
        }
        IPCKIT_TRY_ASSIGN(auto busy, creator_busy(fd, path));
        if (!busy) {
            if (initialised(head)) {  // finished between our two looks
                return {};
            }
            return init_failure(head, *st, obj);
        }
        if (until.expired()) {
            return Error(std::errc::timed_out, "event open", obj, "still initialising");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

/// Every header field read once and checked against the others and fstat; returns max_ids.
Result<std::uint32_t> validate_header(const EventHeader& h,
                                      const struct stat& st,
                                      const std::string& obj) {
    const std::uint32_t version = h.layout_version.load(std::memory_order_relaxed);
    if (version != kEventLayoutVersion) {
        return Error(std::errc::protocol_not_supported,
                     "event open",
                     obj,
                     "created by ipckit event layout " + num(version) +
                         "; this build understands " + num(kEventLayoutVersion));
    }
    if (const std::uint32_t hash = h.layout_hash.load(std::memory_order_relaxed);
        hash != event_layout_hash()) {
        return Error(
            std::errc::protocol_not_supported,
            "event open",
            obj,
            "layout hash " + num(hash) + " differs from this build's " + num(event_layout_hash()));
    }
    const std::uint32_t max_ids = h.max_ids.load(std::memory_order_relaxed);
    if (max_ids == 0 || max_ids > Event::kMaxIds) {
        return Error(std::errc::bad_message,
                     "event open",
                     obj,
                     "corrupt header: max_ids=" + num(max_ids) + " (must be 1.." +
                         num(Event::kMaxIds) + ")");
    }
    const std::uint64_t expected = event_file_size(max_ids);
    struct Field {
        const char* what;
        std::uint64_t have;
    };
    for (const Field& f : {Field{"file_size", h.file_size.load(std::memory_order_relaxed)},
                           Field{"real file size", static_cast<std::uint64_t>(st.st_size)}}) {
        if (f.have != expected) {
            return Error(std::errc::bad_message,
                         "event open",
                         obj,
                         std::string("corrupt header: ") + f.what + "=" + num(f.have) +
                             " (expected " + num(expected) + " for max_ids=" + num(max_ids) + ")");
        }
    }
    // A hole would be allocated on first touch, a SIGBUS on a full file system: the creator
    // reserved every block, anything less is refused.
    if (const auto backed = static_cast<std::uint64_t>(st.st_blocks) * 512; backed < expected) {
        return Error(std::errc::bad_message,
                     "event open",
                     obj,
                     "file: blocks not allocated (" + num(backed) + " of " + num(expected) +
                         " bytes backed)");
    }
    return max_ids;
}

}  // namespace

Result<std::unique_ptr<EventImpl>> EventImpl::open(std::string_view name_in,
                                                   const EventOptions& options) {
    IPCKIT_TRY_ASSIGN(auto name, validate_event_name(name_in));
    IPCKIT_TRY_ASSIGN(auto where, locate(name, options.dir));
    IPCKIT_TRY_ASSIGN(auto raw, sys::call("open", where.path, [&] {
                          return ::openat(
                              where.dir.get(), where.file.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
                      }));
    auto impl = std::make_unique<EventImpl>();
    impl->fd = UniqueFd(raw);
    impl->name = name;
    const std::string obj = impl->object();
    struct stat st {};
    HeadView head;
    IPCKIT_TRY(wait_initialised(impl->fd.get(), where.path, obj, options, &st, head));
    IPCKIT_TRY_ASSIGN(impl->max_ids, validate_header(header_of(head.map), st, obj));
    if (head.guard.faulted()) {
        return Error(std::errc::bad_address, "event open", obj, "truncated while opening");
    }
    impl->file_size = event_file_size(impl->max_ids);
    head.guard.reset();
    head.map.reset();
    IPCKIT_TRY_ASSIGN(impl->map,
                      Mapping::map(impl->fd.get(),
                                   impl->file_size,
                                   0,
                                   Protection::ReadWrite,
                                   Sharing::Shared,
                                   where.path));
    impl->guard = detail::SigbusGuard::watch(impl->map);
    impl->seen.assign(impl->max_ids, 0);
    return impl;
}

}  // namespace ipckit::detail
