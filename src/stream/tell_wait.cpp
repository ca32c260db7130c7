// SPDX-License-Identifier: MIT
#include "ipckit/stream/tell_wait.hpp"

namespace ipckit {

namespace {

Result<void> tell(PipeWriter& w, char c) {
    const std::byte b{static_cast<unsigned char>(c)};
    return w.write_all(std::span(&b, 1));
}

Result<void> await(PipeReader& r, char expected, Deadline deadline, const char* who) {
    std::byte b{};
    IPCKIT_TRY_ASSIGN(auto n, r.read_exact(std::span(&b, 1), deadline));
    if (n == 0) {
        // Only if every write end is closed: the peer died (and we dropped our own copy).
        return Error(std::errc::broken_pipe, who, r.object(), "peer closed");
    }
    if (static_cast<char>(b) != expected) {
        return Error(std::errc::bad_message, who, r.object(),
                     std::string("incorrect data '") + static_cast<char>(b) + "'");
    }
    return {};
}

}  // namespace

Result<TellWait> TellWait::create() {
    IPCKIT_TRY_ASSIGN(auto a, Pipe::create());
    IPCKIT_TRY_ASSIGN(auto b, Pipe::create());
    return TellWait(std::move(a), std::move(b));
}

Result<void> TellWait::tell_parent() { return tell(to_parent_.writer, 'c'); }
Result<void> TellWait::wait_parent(Deadline deadline) {
    return await(to_child_.reader, 'p', deadline, "WAIT_PARENT");
}
Result<void> TellWait::tell_child() { return tell(to_child_.writer, 'p'); }
Result<void> TellWait::wait_child(Deadline deadline) {
    return await(to_parent_.reader, 'c', deadline, "WAIT_CHILD");
}

}  // namespace ipckit
