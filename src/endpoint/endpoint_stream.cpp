// SPDX-License-Identifier: MIT
// Endpoints over byte streams: fifo:, and the framing (length-prefixed frames or raw lines) that
// the stream sockets share.
#include "endpoint/endpoint_impl.hpp"
#include "ipckit/stream/fifo.hpp"

#include <algorithm>
#include <utility>

namespace ipckit::detail {

Result<std::optional<std::vector<std::byte>>> StreamReader::read(Deadline deadline, bool& eof) {
    eof = false;
    if (!raw_) {
        auto f = frames_.read(deadline);
        if (!f && f.error() == FrameReader::kEndOfStream) {
            eof = true;
            return std::optional<std::vector<std::byte>>();
        }
        return f;  // a frame, nothing by the deadline (progress kept), or the error
    }
    for (;;) {
        const auto nl = std::find(pending_.begin(), pending_.end(), std::byte{'\n'});
        if (nl != pending_.end()) {
            std::vector<std::byte> line(pending_.begin(), nl);
            pending_.erase(pending_.begin(), nl + 1);
            return std::optional<std::vector<std::byte>>(std::move(line));
        }
        if (pending_.size() > kStreamMaxMessage) {
            return Error(std::errc::message_size,
                         "read",
                         object_,
                         "a line longer than " + std::to_string(kStreamMaxMessage) + " bytes");
        }
        std::byte buf[65536];
        IPCKIT_TRY_ASSIGN(auto n, read_some(fd_, buf, deadline, object_));
        if (!n) {
            return std::optional<std::vector<std::byte>>();
        }
        if (*n == 0) {
            eof = true;
            if (!pending_.empty()) {  // a last line without '\n' is still a message
                std::vector<std::byte> line = std::move(pending_);
                pending_.clear();
                eof = false;
                return std::optional<std::vector<std::byte>>(std::move(line));
            }
            return std::optional<std::vector<std::byte>>();
        }
        pending_.insert(pending_.end(), buf, buf + *n);
    }
}

Result<void> write_message(int fd,
                           std::span<const std::byte> message,
                           bool raw,
                           FdKind kind,
                           Deadline deadline,
                           const std::string& object) {
    if (!raw) {
        return write_frame(fd, message, kind, deadline, object, kStreamMaxMessage);
    }
    if (std::find(message.begin(), message.end(), std::byte{'\n'}) != message.end()) {
        return Error(std::errc::invalid_argument,
                     "send",
                     object,
                     "a raw (line) message must not contain a newline");
    }
    std::vector<std::byte> line(message.begin(), message.end());
    line.push_back(std::byte{'\n'});
    return write_all(fd, line, kind, deadline, object);
}

namespace {

class FifoImpl final : public Endpoint::Impl {
public:
    FifoImpl(UniqueFd fd, bool raw, bool receiver, std::string object)
        : fd_(std::move(fd))
        , raw_(raw)
        , receiver_(receiver)
        , reader_(fd_.get(), raw, std::move(object)) {}
    Result<void> send(std::span<const std::byte> message, const SendOptions& o) override {
        if (receiver_) {
            return wrong_role(name, "send");  // it would read its own message back
        }
        return write_message(fd_.get(), message, raw_, FdKind::Other, o.deadline, name);
    }
    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        bool eof = false;
        IPCKIT_TRY_ASSIGN(auto data, reader_.read(deadline, eof));
        if (!data) {
            return std::optional<EndpointMessage>();  // read-write open: never EOF
        }
        EndpointMessage m;
        m.data = std::move(*data);
        return std::optional<EndpointMessage>(std::move(m));
    }
    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        return kStreamMaxMessage;
    }

private:
    UniqueFd fd_;
    bool raw_;
    bool receiver_;
    StreamReader reader_;
};

}  // namespace

Result<EndpointImplPtr> open_fifo(const FifoUri& u, EndpointRole role, const EndpointOptions& o) {
    const bool create = o.create || u.create.create;
    const Permissions perms = o.mode.value_or(u.create.mode.value_or(Permissions(0600)));
    IPCKIT_TRY_ASSIGN(auto fifo,
                      create ? Fifo::open_or_create(u.path, perms, o.ownership)
                             : Fifo::open(u.path, o.ownership));
    (void)fifo.release();  // a FIFO the endpoint creates persists, like a queue it creates
    const bool raw = o.raw.value_or(u.raw);
    const std::string object = "fifo:" + u.path;
    if (role == EndpointRole::Receiver) {
        // Read-write: the open never blocks for a writer and writers coming and going never look
        // like end of file; the deadline is enforced by poll on the non-blocking descriptor.
        IPCKIT_TRY_ASSIGN(auto reader, fifo.open_read_write(/*nonblocking_io=*/true));
        return EndpointImplPtr(std::make_unique<FifoImpl>(reader.release(), raw, true, object));
    }
    IPCKIT_TRY_ASSIGN(auto writer, fifo.open_writer_until(o.deadline));
    if (!writer) {
        return Error(std::errc::timed_out, "open", object, "no reader opened the FIFO");
    }
    return EndpointImplPtr(std::make_unique<FifoImpl>(writer->release(), raw, false, object));
}

}  // namespace ipckit::detail
