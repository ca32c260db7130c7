// SPDX-License-Identifier: MIT
// ipckit.Semaphore (a POSIX named semaphore, sem_overview(7)) and ipckit.MessageQueue (a POSIX
// message queue, mq_overview(7)) for Python. Both kernel objects may be used from many threads
// at once, so there is no gate: each call holds a shared_ptr to the C++ handle while the GIL is
// released, and close() only drops the Python object's own reference (a wait running in another
// thread keeps the handle open until it returns).
#include "posix_objects.hpp"

#include "common.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/sync/named_semaphore.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <pybind11/pybind11.h>
#include <span>
#include <string>
#include <utility>

namespace ipckit_py {

namespace {

ipckit::PosixName posix_name(const std::string& name) {
    return unwrap(ipckit::PosixName::make(name));
}

ipckit::Permissions permissions(unsigned mode) {
    return ipckit::Permissions(static_cast<mode_t>(mode));
}

// A thread-safe kernel handle shared by the calls that use it.
template <class T>
class Shared {
public:
    explicit Shared(T handle) : handle_(std::make_shared<T>(std::move(handle))) {}

    [[nodiscard]] std::shared_ptr<T> get(const char* what) const {
        if (!handle_) {
            throw py::value_error(std::string("ipckit.") + what + ": I/O operation on a closed " +
                                  "handle");
        }
        return handle_;
    }
    void close() noexcept { handle_.reset(); }
    [[nodiscard]] bool closed() const noexcept { return !handle_; }

private:
    std::shared_ptr<T> handle_;
};

using Semaphore = Shared<ipckit::NamedSemaphore>;
using MessageQueue = Shared<ipckit::PosixMq>;

// Result<bool> (false = timed out) as the Result<optional> that wait_sliced expects.
ipckit::Result<std::optional<bool>> as_optional(ipckit::Result<bool>&& r) {
    if (!r) {
        return std::move(r).error();
    }
    return *r ? std::optional<bool>(true) : std::optional<bool>();
}

void bind_semaphore(py::module_& m) {
    py::class_<Semaphore> cls(
        m, "Semaphore", "A POSIX named semaphore (sem_open): NAME is '/name'. Thread-safe.");
    cls.def_static(
           "create",
           [](const std::string& name, unsigned value, unsigned mode) {
               return Semaphore(unwrap(
                   ipckit::NamedSemaphore::create(posix_name(name), value, permissions(mode))));
           },
           py::arg("name"),
           py::arg("value") = 0,
           py::kw_only(),
           py::arg("mode") = 0600,
           "Creates it exclusively (ipckit.Error EEXIST when the name is taken).")
        .def_static(
            "open",
            [](const std::string& name) {
                return Semaphore(unwrap(ipckit::NamedSemaphore::open(posix_name(name))));
            },
            py::arg("name"),
            "Opens an existing one (yours only: another user's is refused).")
        .def_static(
            "open_or_create",
            [](const std::string& name, unsigned value, unsigned mode) {
                return Semaphore(unwrap(ipckit::NamedSemaphore::open_or_create(
                    posix_name(name), value, permissions(mode))));
            },
            py::arg("name"),
            py::arg("value") = 0,
            py::kw_only(),
            py::arg("mode") = 0600)
        .def_static(
            "unlink",
            [](const std::string& name) {
                unwrap(ipckit::NamedSemaphore::unlink(posix_name(name)));
            },
            py::arg("name"),
            "Removes the name; open handles keep working.")
        .def(
            "post",
            [](const Semaphore& s) { unwrap(s.get("Semaphore")->post()); },
            "Increments (ipckit.Error EOVERFLOW at the maximum).")
        .def(
            "wait",
            [](const Semaphore& s, const py::object& timeout) {
                auto sem = s.get("Semaphore");
                auto got = wait_sliced(to_deadline(timeout), [&sem](ipckit::Deadline d) {
                    return as_optional(sem->wait_until(d));
                });
                return unwrap(std::move(got)).has_value();
            },
            py::arg("timeout") = py::none(),
            "Decrements, waiting up to timeout seconds (None: forever, 0: try). False on "
            "timeout.")
        .def_property_readonly(
            "value", [](const Semaphore& s) { return unwrap(s.get("Semaphore")->value()); })
        .def_property_readonly("closed", &Semaphore::closed)
        .def("close", &Semaphore::close, "Closes this handle (the name stays until unlink).")
        .def("__enter__", [](const py::object& self) { return self; })
        .def("__exit__", [](Semaphore& s, const py::args&) { s.close(); });
}

void bind_message_queue(py::module_& m) {
    py::class_<MessageQueue> cls(
        m,
        "MessageQueue",
        "A POSIX message queue (mq_open): NAME is '/name'; messages are copied through the "
        "kernel, highest priority first. Thread-safe.");
    cls.def_static(
           "create",
           [](const std::string& name, long max_messages, long max_message_size, unsigned mode) {
               return MessageQueue(unwrap(
                   ipckit::PosixMq::create(posix_name(name),
                                           ipckit::PosixMqLimits{max_messages, max_message_size},
                                           permissions(mode))));
           },
           py::arg("name"),
           py::kw_only(),
           py::arg("max_messages") = 10,
           py::arg("max_message_size") = 8192,
           py::arg("mode") = 0600,
           "Creates it exclusively (ipckit.Error EEXIST when the name is taken; EINVAL names the "
           "sysctl a limit exceeds).")
        .def_static(
            "open",
            [](const std::string& name) {
                return MessageQueue(unwrap(ipckit::PosixMq::open(posix_name(name))));
            },
            py::arg("name"),
            "Opens an existing queue (yours only: another user's is refused).")
        .def_static(
            "unlink",
            [](const std::string& name) { unwrap(ipckit::PosixMq::unlink(posix_name(name))); },
            py::arg("name"),
            "Removes the name; open handles keep working.")
        .def(
            "send",
            [](const MessageQueue& q,
               const py::buffer& data,
               unsigned priority,
               const py::object& timeout) {
                auto mq = q.get("MessageQueue");
                const py::buffer_info info = data.request();  // C-contiguous bytes
                const std::span<const std::byte> bytes(
                    static_cast<const std::byte*>(info.ptr),
                    static_cast<std::size_t>(info.size) * static_cast<std::size_t>(info.itemsize));
                auto got = wait_sliced(to_deadline(timeout), [&](ipckit::Deadline d) {
                    return as_optional(mq->send_until(bytes, priority, d));
                });
                return unwrap(std::move(got)).has_value();
            },
            py::arg("data"),
            py::arg("priority") = 0,
            py::arg("timeout") = py::none(),
            "Sends a bytes-like object, waiting up to timeout seconds while the queue is full. "
            "False on timeout; ipckit.Error EMSGSIZE above the queue's message size.")
        .def(
            "receive",
            [](const MessageQueue& q, const py::object& timeout) -> py::object {
                auto mq = q.get("MessageQueue");
                auto got = wait_sliced(to_deadline(timeout),
                                       [&mq](ipckit::Deadline d) { return mq->receive_until(d); });
                auto message = unwrap(std::move(got));
                if (!message) {
                    return py::none();
                }
                return py::make_tuple(py::bytes(reinterpret_cast<const char*>(message->data.data()),
                                                message->data.size()),
                                      message->priority);
            },
            py::arg("timeout") = py::none(),
            "The oldest message of the highest priority as (bytes, priority), waiting up to "
            "timeout seconds (None: forever, 0: try). None on timeout.")
        .def_property_readonly(
            "max_message_size",
            [](const MessageQueue& q) {
                return unwrap(q.get("MessageQueue")->attributes()).max_message_size;
            })
        .def_property_readonly(
            "current_messages",
            [](const MessageQueue& q) {
                return unwrap(q.get("MessageQueue")->attributes()).current_messages;
            })
        .def_property_readonly("closed", &MessageQueue::closed)
        .def("close", &MessageQueue::close, "Closes this handle (the queue stays until unlink).")
        .def("__enter__", [](const py::object& self) { return self; })
        .def("__exit__", [](MessageQueue& q, const py::args&) { q.close(); });
}

}  // namespace

void bind_posix_objects(py::module_& m) {
    bind_semaphore(m);
    bind_message_queue(m);
}

}  // namespace ipckit_py
