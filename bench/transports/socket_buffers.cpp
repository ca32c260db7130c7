// SPDX-License-Identifier: MIT
// The buffer sizing every record socket transport shares. ipckit::Socket has no buffer-size
// option (yet), so this one helper calls setsockopt(2) on the wrapper's descriptor.
#include "transports/socket_pair.hpp"

#include <sys/socket.h>

namespace ipckit::bench {

std::size_t grow_socket_buffers(const Socket& socket, std::size_t bytes) {
    const int fd = socket.native_handle();
    int want = bytes > (1U << 30) ? (1 << 30) : static_cast<int>(bytes);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    int got = 0;
    socklen_t len = sizeof got;
    ::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len);
    // The kernel doubles the request for its own bookkeeping; a record must fit in half of it.
    return got > 0 ? static_cast<std::size_t>(got) / 2 : 0;
}

}  // namespace ipckit::bench
