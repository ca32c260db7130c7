// SPDX-License-Identifier: MIT
#include "channel/channel_file.hpp"

#include "channel/fault_point.hpp"
#include "ipckit/core/deadline.hpp"
#include "shm/fd_backing.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace ipckit::detail {

namespace {

constexpr std::size_t kMaxNameLength = 200;
constexpr std::string_view kSuffix = ".chan";

std::string num(std::uint64_t v) { return std::to_string(v); }
std::string octal(unsigned v) {
    char buf[8];
    const int n = std::snprintf(buf, sizeof buf, "0%o", v);
    return {buf, static_cast<std::size_t>(n)};
}

Error invalid(const char* op, std::string_view object, std::string detail) {
    return {std::errc::invalid_argument, op, std::string(object), std::move(detail)};
}

/// Checks creation parameters; fills a Geometry.
Result<Geometry> geometry_from(const ChannelConfig& c, std::string_view name) {
    Geometry g;
    const std::uint64_t page = Mapping::page_size();
    if (c.lane_bytes < page || !std::has_single_bit(c.lane_bytes) || c.lane_bytes > kMaxLaneBytes) {
        return invalid("chan create", name,
                       "lane_bytes=" + num(c.lane_bytes) +
                           " must be a power of two between the page size and 2^34");
    }
    // Compared without computing 2 x (max_message_size + 16), which overflows for a forged 2^64-1;
    // a record's length field is 32 bits, so a message must also fit in one.
    if (c.max_message_size == 0 || c.max_message_size > kMaxMessage ||
        c.max_message_size > c.lane_bytes / 2 - kRecordHeaderBytes) {
        return invalid("chan create",
                       name,
                       "max_message_size=" + num(c.max_message_size) +
                           " must be 1..2^32-16 and at most lane_bytes / 2 - 16 (lane_bytes=" +
                           num(c.lane_bytes) + ")");
    }
    if (c.max_publishers == 0 || c.max_publishers > kMaxPublishers) {
        return invalid("chan create", name, "max_publishers must be 1..1024");
    }
    if (c.max_subscribers == 0 || c.max_subscribers > kMaxSubscribers) {
        return invalid("chan create", name, "max_subscribers must be 1..65536");
    }
    if (c.max_loans == 0 || c.max_loans > kMaxLoans) {
        return invalid("chan create", name, "max_loans must be 1..1024");
    }
    if (c.max_groups > kMaxGroups) {
        return invalid("chan create", name, "max_groups must be 0..256");
    }
    if (c.max_group_members == 0 || c.max_group_members > kMaxGroupMembers) {
        return invalid("chan create", name, "max_group_members must be 1..1024");
    }
    g.lane_bytes = c.lane_bytes;
    g.max_message_size = c.max_message_size;
    g.max_publishers = c.max_publishers;
    g.max_subscribers = c.max_subscribers;
    g.max_loans = c.max_loans;
    g.max_groups = c.max_groups;
    g.max_group_members = c.max_group_members;
    g.policy = static_cast<std::uint32_t>(c.policy);
    g.derive(page);
    if (g.file_size > kMaxFileBytes) {
        return invalid("chan create", name, "file size " + num(g.file_size) + " above 1 TiB");
    }
    return g;
}

Result<void> fstat_check(int fd, std::string_view path, const ChannelOptions& o, bool need_size,
                         std::uint64_t min_size, struct stat* out) {
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", path, [&] { return ::fstat(fd, &st); }));
    if (!S_ISREG(st.st_mode)) {
        return Error(std::errc::wrong_protocol_type, "chan open", std::string(path),
                     "not a regular file");
    }
    IPCKIT_TRY(o.ownership.check(st.st_uid, "chan open", std::string(path)));
    if ((st.st_mode & 022) != 0 && !o.allow_shared_write) {
        return Error(std::errc::permission_denied, "chan open", std::string(path),
                     "group- or world-writable (mode " + octal(st.st_mode & 0777) +
                         "); set allow_shared_write to accept");
    }
    if (st.st_nlink != 1) {
        return Error(std::errc::permission_denied, "chan open", std::string(path),
                     "link count " + num(st.st_nlink) + " (expected 1)");
    }
    if (need_size && static_cast<std::uint64_t>(st.st_size) < min_size) {
        return Error(std::errc::bad_message, "chan open", std::string(path),
                     "file size " + num(static_cast<std::uint64_t>(st.st_size)) + " smaller than the header");
    }
    *out = st;
    return {};
}

}  // namespace

Result<std::string> validate_channel_name(std::string_view name) {
    if (name.starts_with("chan:")) {
        name.remove_prefix(5);
    }
    if (name.empty() || name.size() > kMaxNameLength) {
        return invalid("chan name", name.substr(0, 64),
                       "length must be 1.." + num(kMaxNameLength));
    }
    if (name.front() == '.') {
        return invalid("chan name", name, "must not start with '.'");
    }
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '.' || c == '_' || c == '-';
        if (!ok) {
            return invalid("chan name", "", "only [A-Za-z0-9._-] allowed (no '/', NUL or spaces)");
        }
    }
    return std::string(name);
}

Result<UniqueFd> open_channel_dir(const std::string& dir_option, std::string* path_out) {
    std::string dir = dir_option;
    if (dir.empty()) {
        const char* env = std::getenv("IPCKIT_SHM_DIR");
        dir = (env != nullptr && *env != '\0') ? env : "/dev/shm";
    }
    if (dir.front() != '/') {
        return invalid("chan dir", dir, "must be an absolute path");
    }
    IPCKIT_TRY_ASSIGN(auto fd, sys::call("open", dir, [&] {
                          return ::open(dir.c_str(),
                                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                      }));
    UniqueFd owned(fd);
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", dir, [&] { return ::fstat(owned.get(), &st); }));
    if (st.st_uid != ::geteuid() && st.st_uid != 0) {
        return Error(std::errc::permission_denied, "chan dir", dir,
                     "owned by uid " + num(st.st_uid) + " (must be ours or root's)");
    }
    if ((st.st_mode & 002) != 0 && (st.st_mode & S_ISVTX) == 0) {
        return Error(std::errc::permission_denied, "chan dir", dir,
                     "world-writable without the sticky bit");
    }
    if (path_out != nullptr) {
        *path_out = dir;
    }
    return owned;
}

Error ChannelFile::corrupt(const char* op, std::string detail) const {
    return {std::errc::bad_message, op, "chan:" + name_, "corrupt " + std::move(detail)};
}

Result<bool> ChannelFile::try_lock(std::uint64_t off) const {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(off);
    fl.l_len = 1;
    IPCKIT_TRY_ASSIGN(auto r, sys::call_maybe("fcntl(F_OFD_SETLK)", name_, {EAGAIN, EACCES}, [&] {
                          return ::fcntl(fd_.get(), F_OFD_SETLK, &fl);
                      }));
    return r.has_value();
}

void ChannelFile::unlock(std::uint64_t off) const noexcept {
    struct flock fl {};
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(off);
    fl.l_len = 1;
    (void)::fcntl(fd_.get(), F_OFD_SETLK, &fl);
}

Result<bool> ChannelFile::locked_by_other(std::uint64_t off) const {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(off);
    fl.l_len = 1;
    IPCKIT_TRY(sys::call("fcntl(F_OFD_GETLK)", name_,
                         [&] { return ::fcntl(fd_.get(), F_OFD_GETLK, &fl); }));
    return fl.l_type != F_UNLCK;
}

Result<void> ChannelFile::check_intact() const {
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", name_, [&] { return ::fstat(fd_.get(), &st); }));
    if (st.st_nlink == 0) {
        return Error(std::errc::identifier_removed, "chan", "chan:" + name_,
                     "the channel file was removed (rm, or logind RemoveIPC=yes for this user)");
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size < g_.file_size || faulted()) {
        std::string why = size < g_.file_size ? "the channel file was truncated to " + num(size) +
                                                    " of " + num(g_.file_size) + " bytes under us"
                                              : "a page of the channel file could not be backed";
        if (faulted()) {
            why += " (SIGBUS caught: our view of it is zeros now)";
        }
        return Error(std::errc::bad_address, "chan", "chan:" + name_,
                     why + "; remove the channel (ipckit rm) and create it again");
    }
    return {};
}

Result<void> ChannelFile::check_header() const {
    const auto& h = header();
    const std::uint64_t magic = h.magic.load(std::memory_order_relaxed);
    const std::uint32_t version = h.layout_version.load(std::memory_order_relaxed);
    if (magic != kMagic) {
        return corrupt("chan", "header: magic=" + num(magic));
    }
    if (version != kLayoutVersion) {
        return corrupt("chan", "header: layout_version=" + num(version));
    }
    return {};
}

Result<void> ChannelFile::map(Role role) {
    const Protection meta_prot = role == Role::Inspector ? Protection::ReadOnly : Protection::ReadWrite;
    const Protection lane_prot = role == Role::Publisher ? Protection::ReadWrite : Protection::ReadOnly;
    IPCKIT_TRY_ASSIGN(auto meta,
                      Mapping::map(fd_.get(), g_.lanes_off, 0, meta_prot, Sharing::Shared, name_));
    meta_ = std::move(meta);
    meta_guard_ = detail::SigbusGuard::watch(meta_);
    if (role != Role::Inspector) {
        IPCKIT_TRY_ASSIGN(auto lanes,
                          Mapping::map(fd_.get(),
                                       g_.file_size - g_.lanes_off,
                                       g_.lanes_off,
                                       lane_prot,
                                       Sharing::Shared,
                                       name_));
        lanes_ = std::move(lanes);
        lanes_guard_ = detail::SigbusGuard::watch(lanes_);
    }
    return {};
}

namespace {

/// Every header field but the magic (stored last, with release, by the caller).
void write_header(Header& h, const Geometry& g) noexcept {
    h.layout_version.store(kLayoutVersion, std::memory_order_relaxed);
    h.layout_hash.store(layout_hash(), std::memory_order_relaxed);
    h.file_size.store(g.file_size, std::memory_order_relaxed);
    h.lane_bytes.store(g.lane_bytes, std::memory_order_relaxed);
    h.max_message_size.store(g.max_message_size, std::memory_order_relaxed);
    h.max_publishers.store(g.max_publishers, std::memory_order_relaxed);
    h.max_subscribers.store(g.max_subscribers, std::memory_order_relaxed);
    h.max_loans.store(g.max_loans, std::memory_order_relaxed);
    h.policy.store(g.policy, std::memory_order_relaxed);
    h.pub_table_off.store(g.pub_table_off, std::memory_order_relaxed);
    h.sub_table_off.store(g.sub_table_off, std::memory_order_relaxed);
    h.sub_record_bytes.store(g.sub_record_bytes, std::memory_order_relaxed);
    h.lanes_off.store(g.lanes_off, std::memory_order_relaxed);
    h.max_groups.store(g.max_groups, std::memory_order_relaxed);
    h.max_group_members.store(g.max_group_members, std::memory_order_relaxed);
    h.group_table_off.store(g.group_table_off, std::memory_order_relaxed);
    h.group_record_bytes.store(g.group_record_bytes, std::memory_order_relaxed);
    h.creator_pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
}

const Header& header_of(const Mapping& head) noexcept {
    return *reinterpret_cast<const Header*>(head.data());  // NOLINT
}

std::uint32_t ld32(const A32& a) noexcept { return a.load(std::memory_order_relaxed); }
std::uint64_t ld64(const A64& a) noexcept { return a.load(std::memory_order_relaxed); }

/// The creator has published the magic (the mapping exists only once the file is long enough).
bool initialised(const Mapping& head) noexcept {
    return head.valid() && header_of(head).magic.load(std::memory_order_acquire) == kMagic;
}
std::uint32_t creator_pid(const Mapping& head) noexcept {
    return head.valid() ? ld32(header_of(head).creator_pid) : 0;
}

/// The layout version and hash: a skew is "not supported", not corruption.
Result<void> check_layout(const Header& h, const std::string& name) {
    const std::uint32_t version = ld32(h.layout_version);
    if (version != kLayoutVersion) {
        return Error(std::errc::protocol_not_supported, "chan open", "chan:" + name,
                     "created by ipckit layout " + num(version) + "; this build understands " +
                         num(kLayoutVersion));
    }
    if (const std::uint32_t hash = ld32(h.layout_hash); hash != layout_hash()) {
        return Error(std::errc::protocol_not_supported, "chan open", "chan:" + name,
                     "layout hash " + num(hash) + " differs from this build's " +
                         num(layout_hash()) + " (different sizeof/alignment or word size)");
    }
    return {};
}

/// The creation parameters recorded in the header, checked as at creation; the derived offsets
/// and sizes must be exactly what those parameters give (each mismatch named).
Result<Geometry> geometry_from_header(const Header& h, std::uint64_t real_size,
                                      const ChannelFile& f) {
    ChannelConfig c;
    c.lane_bytes = ld64(h.lane_bytes);
    c.max_message_size = ld64(h.max_message_size);
    c.max_publishers = ld32(h.max_publishers);
    c.max_subscribers = ld32(h.max_subscribers);
    c.max_loans = ld32(h.max_loans);
    c.max_groups = ld32(h.max_groups);
    c.max_group_members = ld32(h.max_group_members);
    const std::uint32_t policy = ld32(h.policy);
    if (policy > 1) {
        return f.corrupt("chan open", "header: policy=" + num(policy));
    }
    c.policy = static_cast<ChannelPolicy>(policy);
    auto g = geometry_from(c, f.name());
    if (!g) {
        return f.corrupt("chan open", "header: " + g.error().detail());
    }
    struct Field {
        const char* what;
        std::uint64_t recorded;
        std::uint64_t expected;
    };
    for (const Field& fld :
         {Field{"file_size", ld64(h.file_size), g->file_size},
          Field{"pub_table_off", ld64(h.pub_table_off), g->pub_table_off},
          Field{"sub_table_off", ld64(h.sub_table_off), g->sub_table_off},
          Field{"sub_record_bytes", ld64(h.sub_record_bytes), g->sub_record_bytes},
          Field{"lanes_off", ld64(h.lanes_off), g->lanes_off},
          Field{"group_table_off", ld64(h.group_table_off), g->group_table_off},
          Field{"group_record_bytes", ld64(h.group_record_bytes), g->group_record_bytes},
          Field{"real file size", real_size, g->file_size}}) {
        if (fld.recorded != fld.expected) {
            return f.corrupt("chan open", std::string("header: ") + fld.what + "=" +
                                              num(fld.recorded) + " (expected " +
                                              num(fld.expected) + ")");
        }
    }
    return g;
}

/// Every byte of the file is backed by allocated blocks: a hole (a sparse file, or a lane punched
/// out) is allocated on first touch, and on a full file system that touch is a SIGBUS (F13). The
/// creator reserves everything with posix_fallocate; anything less is refused here. (Not
/// SEEK_HOLE: ext4 reports fallocated, never-written extents as holes.) What slips past this, such
/// as blocks kept past the end to pad the count, is caught by the SIGBUS guard.
Result<void> check_allocated(const struct stat& st, std::uint64_t file_size, const ChannelFile& f) {
    const std::uint64_t backed = static_cast<std::uint64_t>(st.st_blocks) * 512;
    if (backed < file_size) {
        return f.corrupt("chan open",
                         "file: blocks not allocated (" + num(backed) + " of " + num(file_size) +
                             " bytes backed); touching a hole could raise SIGBUS");
    }
    return {};
}

}  // namespace

Result<void> ChannelFile::initialise(const std::string& path, const ChannelConfig& config) {
    if (auto l = try_lock(0); !l || !*l) {
        return l ? Error(std::errc::device_or_resource_busy, "chan create", path) : l.error();
    }
    IPCKIT_FAULT_POINT("chan.create.after_open");
    // The shm area's resize retries EINTR and names a full file system on ENOSPC.
    IPCKIT_TRY(detail::fd_resize(fd_.get(), path, 0, g_.file_size));
    IPCKIT_FAULT_POINT("chan.create.after_fallocate");
    IPCKIT_TRY(map(Role::Publisher));
    auto& h = header();
    write_header(h, g_);
    IPCKIT_FAULT_POINT("chan.create.before_publish");
    h.magic.store(kMagic, std::memory_order_release);
    IPCKIT_TRY(sys::call("fchmod", path,
                         [&] { return ::fchmod(fd_.get(), config.permissions.bits()); }));
    return {};
}

Result<ChannelFile> ChannelFile::create(std::string_view name_in, const ChannelConfig& config,
                                        Role role) {
    IPCKIT_TRY_ASSIGN(auto name, validate_channel_name(name_in));
    IPCKIT_TRY_ASSIGN(auto g, geometry_from(config, name));
    std::string dir_path;
    IPCKIT_TRY_ASSIGN(auto dir, open_channel_dir(config.options.dir, &dir_path));
    const std::string file = name + std::string(kSuffix);
    const std::string path = dir_path + "/" + file;
    // 0200 = "initialising": openers see no magic yet and the creator's lock on byte 0.
    IPCKIT_TRY_ASSIGN(
        auto fd, sys::call("open", path, [&] {
            return ::openat(
                dir.get(), file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0200);
        }));
    ChannelFile f;
    f.fd_ = UniqueFd(fd);
    f.name_ = name;
    f.g_ = g;
    if (auto r = f.initialise(path, config); !r) {
        (void)::unlinkat(dir.get(), file.c_str(), 0);
        return std::move(r).error();
    }
    f.unlock(0);
    if (role != Role::Publisher) {  // remap with the role's protections
        f.meta_guard_.reset();
        f.lanes_guard_.reset();
        f.meta_.reset();
        f.lanes_.reset();
        IPCKIT_TRY(f.map(role));
    }
    return f;
}

Error ChannelFile::init_failure(const Mapping& head, const struct stat& st) const {
    const std::uint32_t pid = creator_pid(head);
    if (head.valid() && (st.st_mode & 0777) != 0200) {
        // Fully created (final mode applied) yet no magic: overwritten since.
        return corrupt("chan open", "header: magic=" + num(ld64(header_of(head).magic)));
    }
    if (static_cast<std::uint64_t>(st.st_size) >= kHeaderBytes || (st.st_mode & 0777) == 0200) {
        return {std::errc::state_not_recoverable, "chan open", "chan:" + name_,
                "initialisation never completed (creator" +
                    (pid != 0 ? " pid " + num(pid) : std::string()) +
                    " is dead); remove it (Channel::remove / ipckit rm)"};
    }
    return corrupt("chan open", "header: file size " + num(static_cast<std::uint64_t>(st.st_size)));
}

Result<Mapping> ChannelFile::wait_initialised(const std::string& path,
                                              const ChannelOptions& options,
                                              struct stat* st) const {
    // Wait (bounded) for the creator to finish: magic set. The creator's lock on byte 0 tells
    // "still initialising" from "creator died half-way" (A18).
    const Deadline until = Deadline::after(options.init_wait);
    Mapping head;
    for (;;) {
        IPCKIT_TRY(fstat_check(fd_.get(), path, options, false, 0, st));
        // Only a file at least one header long is looked at (a shorter one would SIGBUS).
        const bool has_header = static_cast<std::uint64_t>(st->st_size) >= kHeaderBytes;
        if (has_header && !head.valid()) {
            IPCKIT_TRY_ASSIGN(
                auto m,
                Mapping::map(
                    fd_.get(), kHeaderBytes, 0, Protection::ReadOnly, Sharing::Shared, path));
            head = std::move(m);
        }
        if (has_header && initialised(head)) {
            return head;
        }
        IPCKIT_TRY_ASSIGN(auto busy, locked_by_other(0));
        if (!busy) {
            // Re-check: the creator may have finished between our two looks.
            if (initialised(head)) {
                return head;
            }
            return init_failure(head, *st);
        }
        if (until.expired()) {
            return Error(std::errc::timed_out, "chan open", "chan:" + name_,
                         "still initialising (creator pid " + num(creator_pid(head)) + ")");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

Result<ChannelFile> ChannelFile::open(std::string_view name_in, const ChannelOptions& options,
                                      Role role) {
    IPCKIT_TRY_ASSIGN(auto name, validate_channel_name(name_in));
    std::string dir_path;
    IPCKIT_TRY_ASSIGN(auto dir, open_channel_dir(options.dir, &dir_path));
    const std::string file = name + std::string(kSuffix);
    const std::string path = dir_path + "/" + file;
    const int acc = role == Role::Inspector ? O_RDONLY : O_RDWR;
    IPCKIT_TRY_ASSIGN(auto fd, sys::call("open", path, [&] {
                          return ::openat(dir.get(), file.c_str(), acc | O_NOFOLLOW | O_CLOEXEC);
                      }));
    ChannelFile f;
    f.fd_ = UniqueFd(fd);
    f.name_ = name;
    struct stat st {};
    IPCKIT_TRY_ASSIGN(auto head, f.wait_initialised(path, options, &st));
    const Header& h = header_of(head);
    IPCKIT_TRY(check_layout(h, f.name_));
    IPCKIT_TRY_ASSIGN(auto g, geometry_from_header(h, static_cast<std::uint64_t>(st.st_size), f));
    IPCKIT_TRY(check_allocated(st, g.file_size, f));
    f.g_ = g;
    IPCKIT_TRY(f.map(role));
    return f;
}

Result<ChannelFile> ChannelFile::open_or_create(std::string_view name, const ChannelConfig& config,
                                                Role role) {
    for (int attempt = 0; attempt < 8; ++attempt) {
        auto f = open(name, config.options, role);
        if (f) {
            const Geometry& g = f->geometry();
            struct Field {
                const char* what;
                std::uint64_t have;
                std::uint64_t want;
            };
            for (const Field& fld :
                 {Field{"policy", g.policy, static_cast<std::uint32_t>(config.policy)},
                  Field{"lane_bytes", g.lane_bytes, config.lane_bytes},
                  Field{"max_message_size", g.max_message_size, config.max_message_size},
                  Field{"max_publishers", g.max_publishers, config.max_publishers},
                  Field{"max_subscribers", g.max_subscribers, config.max_subscribers},
                  Field{"max_loans", g.max_loans, config.max_loans},
                  Field{"max_groups", g.max_groups, config.max_groups},
                  Field{"max_group_members", g.max_group_members, config.max_group_members}}) {
                if (fld.have != fld.want) {
                    return Error(std::errc::invalid_argument, "chan open", "chan:" + f->name(),
                                 std::string("exists with ") + fld.what + "=" + num(fld.have) +
                                     ", requested " + num(fld.want));
                }
            }
            return f;
        }
        if (f.error() != std::errc::no_such_file_or_directory) {
            return f;
        }
        auto c = create(name, config, role);
        if (c || c.error() != std::errc::file_exists) {
            return c;
        }
    }
    return Error(std::errc::device_or_resource_busy, "chan open", std::string(name),
                 "created and removed repeatedly by others");
}

}  // namespace ipckit::detail
