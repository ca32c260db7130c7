// SPDX-License-Identifier: MIT
// Every mechanism `ipckit bench` measures, floors first. Only working transports are listed: a
// mechanism that is not built is simply absent, never a placeholder row.
#include "transports/registry.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>

namespace ipckit::bench {

const std::vector<TransportInfo>& transports() {
    static const std::vector<TransportInfo> list = [] {
        std::vector<TransportInfo> v{
            {"spin-floor", "floor: busy-spin cache line", Group::Floor, false, {}, make_spin_floor},
            {"futex-floor", "floor: raw futex(2)", Group::Floor, false, {}, make_futex_floor},
            {"channel-spin", "ipckit channel (spin)", Group::Channel, false, {}, make_channel_spin},
            {"channel-block",
             "ipckit channel (blocking)",
             Group::Channel,
             false,
             {},
             make_channel_block},
            {"srv-spin",
             "ipckit request/reply (spin)",
             Group::Channel,
             false,
             {},
             make_service_spin,
             /*round_trips_only=*/true},
            {"srv-block",
             "ipckit request/reply (blocking)",
             Group::Channel,
             false,
             {},
             make_service_block,
             /*round_trips_only=*/true},
            {"chan-group",
             "ipckit work queue (channel + group)",
             Group::Channel,
             false,
             {},
             make_channel_group},
            {"pipe", "anonymous pipe", Group::Stream, false, {}, make_pipe},
            {"fifo", "FIFO (named pipe)", Group::Stream, false, {}, make_fifo},
            {"unix-stream", "Unix stream socket", Group::Socket, false, {}, make_unix_stream},
            {"unix-dgram", "Unix datagram socket", Group::Socket, false, {}, make_unix_dgram},
            {"unix-seqpacket",
             "Unix seqpacket socket",
             Group::Socket,
             false,
             {},
             make_unix_seqpacket},
            {"tcp", "TCP loopback", Group::Socket, false, {}, make_tcp_loopback},
            {"udp", "UDP loopback", Group::Socket, false, {}, make_udp_loopback},
            {"posix-mq", "POSIX message queue", Group::Queue, false, {}, make_posix_mq},
            {"sysv-mq", "System V message queue", Group::Queue, false, {}, make_sysv_mq},
            {"posix-shm-sem",
             "POSIX shm + POSIX semaphore",
             Group::SharedMemory,
             false,
             {},
             make_posix_shm_sem},
            {"sysv-shm-sem",
             "System V shm + System V semaphore",
             Group::SharedMemory,
             false,
             {},
             make_sysv_shm_sem},
            {"shm-eventfd",
             "shared memory + eventfd",
             Group::SharedMemory,
             false,
             {},
             make_shm_eventfd},
            {"shm-futex",
             "shared memory + ipckit::Futex",
             Group::SharedMemory,
             false,
             {},
             make_shm_futex},
            {"rt-signal", "realtime signal (sigqueue)", Group::Signal, false, {}, make_rt_signal},
        };
#ifdef IPCKIT_BENCH_HAVE_BOOST
        v.push_back(
            {"boost-mq", "Boost.Interprocess message_queue", Group::Peer, true, {}, make_boost_mq});
#endif
#ifdef IPCKIT_BENCH_HAVE_ZMQ
        v.push_back({"zmq-ipc", "ZeroMQ PAIR over ipc://", Group::Peer, true, {}, make_zmq_ipc});
        v.push_back({"zmq-reqrep",
                     "ZeroMQ REQ/REP over ipc://",
                     Group::Peer,
                     true,
                     {},
                     make_zmq_reqrep,
                     /*round_trips_only=*/true});
        v.push_back({"zmq-pushpull",
                     "ZeroMQ PUSH/PULL over ipc://",
                     Group::Peer,
                     true,
                     {},
                     make_zmq_pushpull});
#endif
#ifdef IPCKIT_BENCH_HAVE_ICEORYX
        v.push_back({"iceoryx",
                     "Eclipse iceoryx 2.0 pub/sub",
                     Group::Peer,
                     true,
                     {start_roudi, stop_roudi},
                     make_iceoryx});
#endif
        return v;
    }();
    return list;
}

void ledger(const std::string& kind, const std::string& object) {
    static const char* path = std::getenv("IPCKIT_BENCH_OBJECT_LOG");
    if (path == nullptr || *path == '\0') {
        return;
    }
    std::ofstream out(path, std::ios::app);
    out << kind << ' ' << object << '\n';
}

}  // namespace ipckit::bench
