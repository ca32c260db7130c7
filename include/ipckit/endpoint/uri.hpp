// SPDX-License-Identifier: MIT
// Uri: the typed description of an endpoint address ("mq:/jobs?maxmsg=64", "sysvmq:ftok:/etc:7",
// "unix:@svc", "tcp:[::1]:8080", ...), the grammar of ../shared/DESIGN.md "Endpoint URIs".
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/sysv_key.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

/// Every scheme an endpoint URI can name.
enum class UriScheme {
    Fifo,           ///< fifo:PATH
    PosixMq,        ///< mq:/NAME
    SysvMq,         ///< sysvmq:KEY | sysvmq:ftok:PATH:ID | sysvmq:id:ID | sysvmq:private
    Unix,           ///< unix:PATH | unix:@ABSTRACT (SOCK_STREAM)
    UnixDgram,      ///< unix-dgram:PATH | unix-dgram:@ABSTRACT
    UnixSeqpacket,  ///< unix-seqpacket:PATH | unix-seqpacket:@ABSTRACT
    Tcp,            ///< tcp:HOST:PORT | tcp:[IPV6]:PORT
    Udp,            ///< udp:HOST:PORT | udp:[IPV6]:PORT
    Chan,           ///< chan:NAME
    PosixShm,       ///< shm:/NAME
    SysvShm,        ///< sysvshm:KEY (same key forms as sysvmq)
    PosixSem,       ///< sem:/NAME
    SysvSem,        ///< sysvsem:KEY[#INDEX]
    Nats,           ///< nats://HOST:PORT/SUBJECT (bridge only)
    Event,          ///< event:NAME (not a message endpoint: ls/stat/rm, WaitSet)
    Srv,            ///< srv:NAME (a request/reply service: call, serve; not a message endpoint)
};

/// "mq", "unix-dgram", "nats", ... (the spelling before the ':').
IPCKIT_API std::string_view scheme_name(UriScheme scheme) noexcept;

/// Options every creatable object shares: `?mode=0640&create`.
struct IPCKIT_API CreateOptions {
    std::optional<Permissions> mode;  ///< mode=OCTAL (<= 0777); default 0600 where created
    bool create = false;              ///< create=1|0|true|false|yes|no, or bare `create`
};

/// How a System V object is addressed. Resolving a key may touch the file system (ftok), so the
/// parser never does it: resolve_key() is called when the object is opened.
struct IPCKIT_API SysvAddress {
    enum class Kind { Key, Ftok, Id };
    Kind kind = Kind::Key;
    SysvKey key = SysvKey::private_key();  ///< Kind::Key (may be private_key() for "private")
    std::string ftok_path;                 ///< Kind::Ftok
    int ftok_id = 0;                       ///< Kind::Ftok, 1..255
    int id = -1;                           ///< Kind::Id: the msqid/shmid/semid, >= 0

    /// The key for Kind::Key / Kind::Ftok (runs ftok(3): "ftok /nope: No such file or
    /// directory"). Kind::Id has no key: errc::invalid_argument.
    [[nodiscard]] Result<SysvKey> resolve_key() const;
    /// "0x000011ec", "private", "ftok:/etc/hostname:7", "id:42".
    [[nodiscard]] std::string to_string() const;
};

/// fifo:PATH?create&mode=0600&raw
struct IPCKIT_API FifoUri {
    std::string path;
    CreateOptions create;
    bool raw = false;  ///< raw lines instead of length-prefixed frames
};

/// mq:/NAME?maxmsg=N&msgsize=N&prio=N&mode=..&create
struct IPCKIT_API PosixMqUri {
    PosixName name;
    std::optional<long> max_messages;      ///< maxmsg >= 1 (checked against msg_max at open)
    std::optional<long> max_message_size;  ///< msgsize >= 1 (checked against msgsize_max at open)
    std::optional<unsigned> priority;      ///< prio in [0, 32767] (MQ_PRIO_MAX - 1)
    CreateOptions create;
};

/// sysvmq:KEY?type=N&mode=..&create. `type` is signed: a receive type of -3 is valid (the lowest
/// type <= 3), a send type must be > 0 (validate_send_type()).
struct IPCKIT_API SysvMqUri {
    SysvAddress address;
    std::optional<long> type;
    CreateOptions create;
};

/// unix:, unix-dgram:, unix-seqpacket: a pathname or an abstract ("@name") socket address.
struct IPCKIT_API UnixUri {
    enum class Type { Stream, Datagram, Seqpacket };
    Type type = Type::Stream;
    std::string path;       ///< the file path, or the abstract name without its '@'
    bool abstract = false;  ///< "@name": no file, no permissions (F22)
    std::optional<Permissions> mode;
    bool raw = false;  ///< stream only: raw lines instead of length-prefixed frames
};

/// tcp:HOST:PORT, udp:HOST:PORT. `host` has no brackets; ipv6_literal says it was "[...]".
struct IPCKIT_API InetUri {
    enum class Protocol { Tcp, Udp };
    Protocol protocol = Protocol::Tcp;
    std::string host;
    bool ipv6_literal = false;
    std::uint16_t port = 0;
    bool raw = false;  ///< tcp only
};

/// chan:NAME?dir=PATH&capacity=N&msgsize=N&policy=block|overwrite&mode=..&create
/// capacity is the bytes of each publisher's ring (ChannelConfig::lane_bytes); capacity, msgsize
/// and policy only matter when the channel is created.
struct IPCKIT_API ChanUri {
    /// [A-Za-z0-9._-], not starting with '.', so a name can never leave its directory (A22).
    std::string name;
    std::optional<std::string> dir;  ///< absolute directory (default $IPCKIT_SHM_DIR or /dev/shm)
    std::optional<std::size_t> capacity;
    std::optional<std::size_t> max_message_size;
    bool overwrite = false;  ///< policy=overwrite (lossy) instead of the default policy=block
    /// group=G: receive as one consumer of work-queue group G (GroupConsumer: each message to
    /// one member of G). 1..63 of [A-Za-z0-9._-]. A sender ignores it (it publishes to the
    /// channel; every group gets the message once).
    std::optional<std::string> group;
    CreateOptions create;
};

/// event:NAME?dir=PATH: an event file (ipckit::Event), named as a channel.
struct IPCKIT_API EventUri {
    /// [A-Za-z0-9._-], not starting with '.', at most 200 bytes (A22).
    std::string name;
    std::optional<std::string> dir;  ///< absolute directory (default $IPCKIT_SHM_DIR or /dev/shm)
};

/// srv:NAME?dir=PATH: a request/reply service (Server, Client), its files beside the channels.
struct IPCKIT_API SrvUri {
    /// [A-Za-z0-9._-], not starting with '.', at most 180 bytes (A22).
    std::string name;
    std::optional<std::string> dir;  ///< absolute directory (default $IPCKIT_SHM_DIR or /dev/shm)
};

/// shm:/NAME?size=N&mode=..&create
struct IPCKIT_API PosixShmUri {
    PosixName name;
    std::optional<std::size_t> size;
    CreateOptions create;
};

/// sysvshm:KEY?size=N&mode=..&create
struct IPCKIT_API SysvShmUri {
    SysvAddress address;
    std::optional<std::size_t> size;
    CreateOptions create;
};

/// sem:/NAME?value=N&mode=..&create
struct IPCKIT_API PosixSemUri {
    PosixName name;
    std::optional<unsigned> value;  ///< initial value on creation, <= SEM_VALUE_MAX
    CreateOptions create;
};

/// sysvsem:KEY[#INDEX]?nsems=N&value=N&mode=..&create
struct IPCKIT_API SysvSemUri {
    SysvAddress address;
    std::optional<unsigned> index;  ///< "#2": which semaphore of the set (default 0)
    std::optional<int> nsems;       ///< set size on creation, >= 1
    std::optional<int> value;       ///< initial value on creation, [0, 32767] (SEMVMX)
    CreateOptions create;
};

/// nats://HOST:PORT/SUBJECT (default port 4222).
struct IPCKIT_API NatsUri {
    std::string host;
    bool ipv6_literal = false;
    std::uint16_t port = 4222;
    std::string subject;  ///< dot-separated tokens; '*' and '>' wildcards allowed
};

/// A parsed endpoint URI: the scheme plus one typed struct per scheme.
///
/// Parsing is pure: it validates names (PosixName), keys (SysvKey), ports, hosts and options
/// without touching the file system or the kernel, so a bad URI is rejected before anything is
/// opened or created (A22). Every error is errc::invalid_argument (or filename_too_long) with the
/// op "uri", the URI as the object and a detail naming the bad part:
///   uri 'tcp:h:99999': Invalid argument (port '99999' is not in [0, 65535])
///
/// Options follow '?', separated by '&'. Unknown options, repeated options and bad values are
/// errors, never ignored. In a path, name or option value, %XX decodes one byte (so "%3F" is a
/// literal '?'); %00 is refused.
///
/// Thread-safety: a value type. @code
///   auto uri = Uri::parse("mq:/jobs?maxmsg=64");
///   if (!uri) { std::puts(uri.error().message().c_str()); return 2; }
///   if (const auto* mq = uri->get_if<PosixMqUri>()) open_queue(mq->name, mq->max_messages);
/// @endcode
class IPCKIT_API Uri {
public:
    using Address = std::variant<FifoUri, PosixMqUri, SysvMqUri, UnixUri, InetUri, ChanUri,
                                 PosixShmUri, SysvShmUri, PosixSemUri, SysvSemUri, NatsUri,
                                 EventUri, SrvUri>;

    /// Parses `text`; see the class comment for the error form.
    static Result<Uri> parse(std::string_view text);

    [[nodiscard]] UriScheme scheme() const noexcept { return scheme_; }
    [[nodiscard]] std::string_view scheme_name() const noexcept {
        return ipckit::scheme_name(scheme_);
    }
    [[nodiscard]] const Address& address() const noexcept { return address_; }
    template <class T>
    [[nodiscard]] const T* get_if() const noexcept {
        return std::get_if<T>(&address_);
    }
    /// The text it was parsed from.
    [[nodiscard]] const std::string& text() const noexcept { return text_; }
    /// The address without options in canonical spelling ("sysvmq:0x000011ec", "tcp:[::1]:80").
    [[nodiscard]] std::string object_string() const;

    /// Every scheme name, for help text and shell completion.
    static const std::vector<std::string_view>& known_schemes();
    /// The options `scheme` accepts.
    static const std::vector<std::string_view>& known_options(UriScheme scheme);

private:
    Uri(UriScheme scheme, Address address, std::string text)
        : scheme_(scheme), address_(std::move(address)), text_(std::move(text)) {}
    UriScheme scheme_;
    Address address_;
    std::string text_;
};

/// A System V send type must be > 0 (F7: mtype 0 is EINVAL; negative types only select on
/// receive). Error: "type -3: a send type must be >= 1".
IPCKIT_API Result<long> validate_sysv_send_type(long type);

/// The file name of channel `name` inside its directory ("NAME.chan", as ipckit::Channel names
/// it). `ipckit ls` recognises channels by this suffix.
IPCKIT_API std::string channel_file_name(std::string_view name);
inline constexpr std::string_view kChannelFileSuffix = ".chan";

}  // namespace ipckit
