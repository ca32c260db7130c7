// SPDX-License-Identifier: MIT
// The factories of every transport file; registry.cpp lists them in table order.
#pragma once

#include "engine/transport.hpp"

#include <memory>

namespace ipckit::bench {

std::unique_ptr<Transport> make_spin_floor();
std::unique_ptr<Transport> make_futex_floor();
std::unique_ptr<Transport> make_channel_spin();
std::unique_ptr<Transport> make_channel_block();
std::unique_ptr<Transport> make_service_spin();
std::unique_ptr<Transport> make_service_block();
std::unique_ptr<Transport> make_channel_group();
std::unique_ptr<Transport> make_pipe();
std::unique_ptr<Transport> make_fifo();
std::unique_ptr<Transport> make_unix_stream();
std::unique_ptr<Transport> make_unix_dgram();
std::unique_ptr<Transport> make_unix_seqpacket();
std::unique_ptr<Transport> make_tcp_loopback();
std::unique_ptr<Transport> make_udp_loopback();
std::unique_ptr<Transport> make_posix_mq();
std::unique_ptr<Transport> make_sysv_mq();
std::unique_ptr<Transport> make_posix_shm_sem();
std::unique_ptr<Transport> make_sysv_shm_sem();
std::unique_ptr<Transport> make_shm_eventfd();
std::unique_ptr<Transport> make_shm_futex();
std::unique_ptr<Transport> make_rt_signal();

// Peers (bench/peers/), compiled only when their Debian packages were found.
std::unique_ptr<Transport> make_boost_mq();
std::unique_ptr<Transport> make_zmq_ipc();
std::unique_ptr<Transport> make_zmq_reqrep();
std::unique_ptr<Transport> make_zmq_pushpull();
std::unique_ptr<Transport> make_iceoryx();
Result<void> start_roudi(const std::string& temp_dir, bool (*cancelled)());
void stop_roudi(std::span<const int> clients);

}  // namespace ipckit::bench
