// SPDX-License-Identifier: MIT
// Inventory: every IPC object on the host (POSIX queues, shm, named semaphores, System V queues,
// segments and semaphore sets, ipckit channels) read from /dev/mqueue, /dev/shm, /proc/sysvipc
// and /proc/*/{maps,fd} and through each facility's own by-name/by-id calls: what `ipckit ls`,
// `stat` and `rm` are built on. Not an endpoint: it administers objects, it sends nothing.
#pragma once

#include "ipckit/bridge/bridge_status.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/endpoint/uri.hpp"
#include "ipckit/event/event.hpp"
#include "ipckit/export.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipckit {

/// The kinds of object the inventory lists.
enum class IpcObjectKind {
    PosixMq,
    PosixShm,
    PosixSem,
    SysvMsg,
    SysvShm,
    SysvSem,
    Channel,
    Event,
    Service,
    Bridge  ///< a bridge's status file (ipckit::list_bridges)
};

/// "mq", "shm", "sem", "sysvmq", "sysvshm", "sysvsem", "chan", "event", "srv", "bridge": the URI
/// scheme of the kind.
IPCKIT_API std::string_view kind_name(IpcObjectKind kind) noexcept;
/// The inverse of kind_name(); empty for an unknown word.
IPCKIT_API std::optional<IpcObjectKind> kind_from_name(std::string_view name) noexcept;

/// Whether an object is used, and whether `ipckit rm --stale` may remove it: the first that
/// applies, in this order.
enum class ObjectState {
    InUse,         ///< a live process maps it, holds it open, is attached or waits on it
    UsersUnknown,  ///< no user seen, but a process we may not examine might use it
    Unread,        ///< its users are gone but messages wait in it (or its count is unreadable)
    NeverUsed,     ///< its creator is gone and nobody used it yet (System V segment, set)
    Stale,         ///< its users are provably gone and nothing in it waits to be read
    Idle,          ///< nothing proves its users gone (e.g. its last recorded user is alive)
};

/// "in-use", "users-unknown", "unread", "never-used", "stale", "idle" (the JSON words).
IPCKIT_API std::string_view state_name(ObjectState state) noexcept;

/// One client slot of a request/reply service: publisher lane L of NAME.srv-req and the
/// subscriber of NAME.srv-rsp<L> with the same pid (the client's own counters; a client's
/// dropped_responses() lives in its memory only).
struct IPCKIT_API ServiceClientInfo {
    std::uint32_t lane = 0;
    pid_t pid = 0;
    bool alive = false;           ///< its lane's OFD lock is held
    std::uint64_t requests = 0;   ///< requests it published
    std::uint64_t responses = 0;  ///< responses it took from its response channel
    std::uint64_t in_flight = 0;  ///< requests - responses (0 when streams gave more)
    std::uint64_t lost = 0;       ///< responses lost (to a dead server's records)
    std::uint64_t corrupt = 0;    ///< corrupt responses skipped
};

/// What `ipckit ls/stat` shows about a service (`srv:NAME`): the server record, checked as a
/// client checks it, and the request/response channels through Channel::inspect.
struct IPCKIT_API ServiceInfo {
    bool record_valid = false;  ///< false: the fields below that come from the record are 0
    pid_t server_pid = 0;
    std::uint64_t generation = 0;
    bool server_alive = false;  ///< the record's OFD lock is held (not a reused pid)
    std::uint64_t max_request = 0;
    std::uint64_t max_response = 0;
    std::uint32_t max_clients = 0;
    std::uint64_t received = 0;              ///< requests the live server subscriber took
    std::uint64_t waiting = 0;               ///< unread request bytes on the server's fullest lane
    std::uint64_t in_flight = 0;             ///< sum over the clients
    std::vector<ServiceClientInfo> clients;  ///< lanes in use (alive or dead)
    std::vector<std::string> files;          ///< the record and channel files, in its directory
};

/// One IPC object as the kernel shows it. Optional fields are absent when the kind has no such
/// property or it could not be read (no permission): absent is never shown as 0.
struct IPCKIT_API IpcObjectInfo {
    IpcObjectKind kind = IpcObjectKind::PosixShm;
    std::string name;  ///< "/jobs" (POSIX), "ticks" (channel), "0x000011ec"/"private" (System V)
    std::string uri;   ///< how to address it: "mq:/jobs", "chan:ticks", "sysvmq:id:3"
    std::string path;  ///< the file behind it ("/dev/shm/jobs"), empty for System V
    std::optional<key_t> key;  ///< System V
    int id = -1;               ///< System V id
    uid_t uid = 0;
    gid_t gid = 0;
    std::optional<uid_t> cuid;  ///< System V creator
    std::optional<gid_t> cgid;
    mode_t mode = 0;                    ///< permission bits
    std::optional<std::uint64_t> size;  ///< bytes: file size, segment size, bytes queued (queues)
    std::optional<std::uint64_t> messages;    ///< queued messages (mq_curmsgs, qnum)
    std::optional<long> max_messages;         ///< mq_maxmsg
    std::optional<long> max_message_size;     ///< mq_msgsize
    std::optional<std::uint64_t> max_bytes;   ///< msg_qbytes (System V queue)
    std::optional<pid_t> notify_pid;          ///< mq_notify registrant (NOTIFY_PID)
    std::optional<long> sem_value;            ///< POSIX named semaphore value
    std::optional<long> sem_waiters;          ///< POSIX semaphore waiters (glibc nwaiters)
    std::optional<int> nsems;                 ///< System V set size
    std::vector<int> sem_values;              ///< System V values (stat only, if readable)
    std::vector<pid_t> sem_pids;              ///< System V per-semaphore last pids (stat)
    std::optional<std::uint64_t> attached;    ///< shm_nattch
    std::optional<std::uint64_t> rss;         ///< System V shm resident bytes
    std::optional<std::uint64_t> swap;        ///< System V shm swapped bytes
    bool marked_for_removal = false;          ///< System V shm: IPC_RMID done, still attached
    bool locked = false;                      ///< System V shm: SHM_LOCK
    std::string creator_command;              ///< System V shm: command of a live creator
    std::optional<pid_t> creator_pid;         ///< shm_cpid
    std::optional<pid_t> last_pid;            ///< shm_lpid
    std::optional<pid_t> last_send_pid;       ///< msg_lspid
    std::optional<pid_t> last_recv_pid;       ///< msg_lrpid
    std::optional<std::int64_t> access_time;  ///< stime/atime/otime, st_atime (epoch s)
    std::optional<std::int64_t> change_time;  ///< ctime
    std::optional<std::int64_t> modify_time;  ///< rtime/dtime/st_mtime
    std::optional<ChannelInfo> channel;       ///< chan: header and participants (Channel::inspect)
    std::optional<EventInfo> event;           ///< event: ids and counters (Event::inspect)
    std::optional<ServiceInfo> service;       ///< srv: server, clients (NAME.srv + channels)
    std::optional<BridgeStatus> bridge;       ///< bridge: pid, alive, FROM, TO, counters
    std::vector<pid_t> users;  ///< live processes that map it or hold an fd to it (chan: and
                               ///< every live participant; sysvshm: processes attached to it)
    /// False when `users` may be incomplete in a way that matters: a process whose
    /// /proc/PID/{fd,maps} we may not read (another user's, and we are not root) might use this
    /// POSIX object or channel, or a System V set's per-semaphore pids could not be read.
    bool users_known = true;
    ObjectState state = ObjectState::Idle;  ///< Inventory::classify()
    bool stale = false;                     ///< state == ObjectState::Stale
    std::vector<std::string> notes;         ///< what could not be read, and why
};

/// What to list.
struct IPCKIT_API InventoryFilter {
    std::vector<IpcObjectKind> kinds;  ///< empty: every kind
    std::string prefix;                ///< name prefix, with or without the leading '/'
};

/// A host-wide listing. Listing is inherently racy: an object that vanishes between readdir and
/// stat/open is skipped, not an error (C10). A kind that cannot be listed at all (mqueue fs not
/// mounted and we may not mount it, F31) is reported in `warnings` and `unlisted`, never as
/// "nothing there".
struct IPCKIT_API Inventory {
    std::vector<IpcObjectInfo> objects;
    std::vector<std::string> warnings;
    std::vector<IpcObjectKind> unlisted;  ///< kinds that could not be listed

    /// Scans the host. Errors only for a failure that makes the whole listing meaningless.
    static Result<Inventory> scan(const InventoryFilter& filter = {});

    /// The object `uri` names, if it exists (mq:, shm:, sem:, sysvmq:, sysvshm:, sysvsem:,
    /// chan:); with `details` also the fields that need an open (mq attributes, semaphore
    /// values). Errors: errc::invalid_argument for a scheme that names no listable object
    /// ("tcp: is not an object ipckit can list") or "sysvmq:private".
    static Result<std::optional<IpcObjectInfo>> find(const Uri& uri, bool details = true);

    /// The service `srv:NAME` (or `NAME`), if its record file exists in channel_directory() or
    /// /dev/shm. Errors: errc::invalid_argument for a bad name.
    static Result<std::optional<IpcObjectInfo>> find_service(std::string_view name);

    /// The bridge `bridge:NAME` (or `NAME`: "PID", or "PID-N" for a process's further bridges),
    /// if its status file is in bridge_status_dir(). Errors: errc::invalid_argument for a name
    /// that is not PID or PID-N.
    static Result<std::optional<IpcObjectInfo>> find_bridge(std::string_view name);

    /// NAME of `bridge:NAME` (or of `NAME`) when it is PID or PID-N; errc::invalid_argument
    /// otherwise. Touches nothing.
    static Result<std::string> bridge_name(std::string_view text);

    /// Removes the object through its facility: PosixMq/PosixShm/NamedSemaphore::unlink,
    /// Channel::remove, Service::remove (record and channels), remove_bridge_status (a dead
    /// bridge's status file; errc::device_or_resource_busy for a live one), or
    /// SysvMsgQueue/SysvShm/SysvSemaphoreSet::remove(id) (IPC_RMID).
    /// errc::no_such_file_or_directory if it is already gone.
    static Result<void> remove(const IpcObjectInfo& object);

    /// The object's state from what was read (docs/design/cli.md, "Stale"). In short: a live
    /// user (mapping, open fd, attach, waiter, notify registrant, live channel participant)
    /// means InUse; otherwise users we could not see mean UsersUnknown. Then its users must be
    /// provably gone: POSIX objects and channels record no last user, so "nobody uses it" is
    /// the proof; System V objects need a dead last user (lspid/lrpid, lpid or cpid, sempids).
    /// Such an object still is not Stale while messages wait in it or their count is unknown
    /// (Unread), or while nobody has used it yet (NeverUsed: a segment never attached, a set
    /// never operated on); with no such proof it is Idle.
    static ObjectState classify(const IpcObjectInfo& object);

    /// classify(object) == ObjectState::Stale.
    static bool is_stale(const IpcObjectInfo& object);

    /// What `rm --stale` removes: Stale objects, and with `include_unread` also Unread and
    /// NeverUsed ones. Never an object in use or whose users are unknown.
    static bool removable_as_stale(const IpcObjectInfo& object, bool include_unread);
};

/// True if `pid` names a live process (kill(pid, 0) says it exists, even if not ours).
IPCKIT_API bool process_alive(pid_t pid) noexcept;

/// Where channels live: $IPCKIT_SHM_DIR if set, else /dev/shm.
IPCKIT_API std::string channel_directory();

}  // namespace ipckit
