// SPDX-License-Identifier: MIT
// The `ipckit` Python extension (pybind11): channels with zero-copy samples and loans exported
// through the buffer protocol (docs/design/bindings.md, "Python").
//
// Safety rules this file keeps, whatever the Python caller does:
// - A Sample or Loan keeps its Subscriber/Publisher object alive (a Python reference), so its
//   shared memory stays mapped while the Python object exists.
// - A sample or loan with a live buffer export (memoryview, numpy array) cannot be released,
//   published or closed under it: BufferError, as mmap.close() does. So no view can read a
//   released (reused) record or write into a published one.
// - The C++ Publisher/Subscriber are not thread-safe and blocking calls release the GIL: every
//   operation enters a per-object gate. A second thread's call raises RuntimeError; a sample or
//   loan dropped by another thread meanwhile is queued and given back when the gate is left.
#include "common.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/version.hpp"
#include "posix_objects.hpp"

#include <Python.h>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;
using ipckit_py::to_deadline;
using ipckit_py::unwrap;
using ipckit_py::wait_sliced;

namespace {

// ---- the per-object gate

// Serialises the operations on one C++ Publisher/Subscriber. enter/leave/dispose run with the
// GIL held; the blocking part in between runs without it.
template <class Item>
class Gate {
public:
    Gate() = default;
    Gate(const Gate&) = delete;
    Gate& operator=(const Gate&) = delete;
    Gate(Gate&&) = delete;
    Gate& operator=(Gate&&) = delete;
    ~Gate() { drain(); }

    void enter(const char* what) {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (busy_) {
            throw std::runtime_error(std::string("ipckit.") + what +
                                     " is being used by another thread (it is not thread-safe)");
        }
        busy_ = true;
    }
    void leave() noexcept {
        drain();
        const std::lock_guard<std::mutex> lock(mutex_);
        // Items queued after drain() wait for the next operation or the object's end.
        busy_ = false;
    }
    // Destroys item now (giving it back) if no operation runs, else when the running one ends.
    void dispose(Item&& item) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (busy_) {
                deferred_.push_back(std::move(item));
                return;
            }
            busy_ = true;
        }
        { Item gone(std::move(item)); }
        leave();
    }
    // Gives back what other threads dropped during the current operation (caller holds the gate).
    void drain() noexcept {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!deferred_.empty()) {
            std::vector<Item> items = std::move(deferred_);
            deferred_.clear();
            lock.unlock();
            items.clear();
            lock.lock();
        }
    }

private:
    std::mutex mutex_;
    bool busy_ = false;
    std::vector<Item> deferred_;
};

template <class Item>
class GateScope {
public:
    GateScope(Gate<Item>& gate, const char* what) : gate_(gate) { gate_.enter(what); }
    GateScope(const GateScope&) = delete;
    GateScope& operator=(const GateScope&) = delete;
    GateScope(GateScope&&) = delete;
    GateScope& operator=(GateScope&&) = delete;
    ~GateScope() { gate_.leave(); }

private:
    Gate<Item>& gate_;
};

// ---- channel configuration

ipckit::ChannelPolicy parse_policy(const std::string& policy) {
    if (policy == "block") {
        return ipckit::ChannelPolicy::Block;
    }
    if (policy == "overwrite") {
        return ipckit::ChannelPolicy::Overwrite;
    }
    throw py::value_error("policy must be 'block' or 'overwrite', not '" + policy + "'");
}

ipckit::ChannelOptions make_options(const std::optional<std::string>& dir) {
    ipckit::ChannelOptions o;
    if (dir) {
        o.dir = *dir;
    }
    return o;
}

struct ConfigArgs {
    std::string policy = "block";
    std::size_t lane_bytes = ipckit::ChannelConfig{}.lane_bytes;
    std::size_t max_message_size = ipckit::ChannelConfig{}.max_message_size;
    std::uint32_t max_publishers = ipckit::ChannelConfig{}.max_publishers;
    std::uint32_t max_subscribers = ipckit::ChannelConfig{}.max_subscribers;
    std::uint32_t max_loans = ipckit::ChannelConfig{}.max_loans;
    unsigned mode = 0600;
    std::optional<std::string> dir;

    [[nodiscard]] ipckit::ChannelConfig config() const {
        ipckit::ChannelConfig c;
        c.policy = parse_policy(policy);
        c.lane_bytes = lane_bytes;
        c.max_message_size = max_message_size;
        c.max_publishers = max_publishers;
        c.max_subscribers = max_subscribers;
        c.max_loans = max_loans;
        c.permissions = ipckit::Permissions(static_cast<mode_t>(mode));
        c.options = make_options(dir);
        return c;
    }
};

// Binds a factory taking the channel configuration as keyword-only arguments.
template <class Class, class F>
void def_config_factory(Class& cls, const char* name, F&& f, const char* doc) {
    const ConfigArgs d;
    cls.def_static(
        name,
        [f](const std::string& channel,
            const std::string& policy,
            std::size_t lane_bytes,
            std::size_t max_message_size,
            std::uint32_t max_publishers,
            std::uint32_t max_subscribers,
            std::uint32_t max_loans,
            unsigned mode,
            const std::optional<std::string>& dir) {
            const ConfigArgs a{policy,
                               lane_bytes,
                               max_message_size,
                               max_publishers,
                               max_subscribers,
                               max_loans,
                               mode,
                               dir};
            return f(channel, a.config());
        },
        py::arg("name"),
        py::kw_only(),
        py::arg("policy") = d.policy,
        py::arg("lane_bytes") = d.lane_bytes,
        py::arg("max_message_size") = d.max_message_size,
        py::arg("max_publishers") = d.max_publishers,
        py::arg("max_subscribers") = d.max_subscribers,
        py::arg("max_loans") = d.max_loans,
        py::arg("mode") = d.mode,
        py::arg("dir") = py::none(),
        doc);
}

// ---- subscriber side

class PySubscriber;

// A received message: a read-only buffer over the shared memory.
class PySample {
public:
    PySample(py::object owner, PySubscriber* sub, ipckit::Sample sample)
        : owner_(std::move(owner)), sub_(sub), sample_(std::move(sample)) {}
    PySample(const PySample&) = delete;
    PySample& operator=(const PySample&) = delete;
    PySample(PySample&&) = delete;
    PySample& operator=(PySample&&) = delete;
    ~PySample();

    [[nodiscard]] bool released() const noexcept { return !sample_.has_value(); }
    [[nodiscard]] const ipckit::Sample& get() const {
        if (!sample_) {
            throw py::value_error("ipckit.Sample: the sample was released");
        }
        return *sample_;
    }
    void release();  // BufferError while a view is exported, ValueError when already released
    // Called by the subscriber's close() (no exports, checked by it).
    std::optional<ipckit::Sample> take() noexcept { return std::exchange(sample_, std::nullopt); }
    // Buffer exports alive (memoryviews, arrays): counted by the buffer slots below.
    [[nodiscard]] Py_ssize_t exports() const noexcept { return exports_; }
    void add_export() noexcept { ++exports_; }
    void drop_export() noexcept { --exports_; }

private:
    Py_ssize_t exports_ = 0;
    py::object owner_;  // the Python Subscriber: keeps the mapping alive
    PySubscriber* sub_;
    std::optional<ipckit::Sample> sample_;
};

class PySubscriber {
public:
    explicit PySubscriber(ipckit::Subscriber s) : sub_(std::move(s)) {}
    PySubscriber(const PySubscriber&) = delete;
    PySubscriber& operator=(const PySubscriber&) = delete;
    PySubscriber(PySubscriber&&) = delete;
    PySubscriber& operator=(PySubscriber&&) = delete;
    ~PySubscriber() { gate_.drain(); }

    ipckit::Subscriber& get() {
        if (!sub_) {
            throw py::value_error("ipckit.Subscriber: I/O operation on a closed subscriber");
        }
        return *sub_;
    }

    py::object receive(const py::object& self, const py::object& timeout) {
        const GateScope<ipckit::Sample> in(gate_, "Subscriber");
        ipckit::Subscriber& s = get();
        auto got = wait_sliced(to_deadline(timeout),
                               [&s](ipckit::Deadline d) { return s.receive_until(d); });
        auto sample = unwrap(std::move(got));
        if (!sample) {
            return py::none();
        }
        auto* made = new PySample(self, this, std::move(*sample));
        auto obj = py::cast(made, py::return_value_policy::take_ownership);
        live_.push_back(made);  // after the cast: if it throws, Python owns and frees `made`
        return obj;
    }

    py::object receive_bytes(const py::object& timeout) {
        const GateScope<ipckit::Sample> in(gate_, "Subscriber");
        ipckit::Subscriber& s = get();
        std::vector<std::byte> buf;
        auto got = wait_sliced(to_deadline(timeout),
                               [&s, &buf](ipckit::Deadline d) { return s.receive_until(buf, d); });
        auto r = unwrap(std::move(got));
        if (!r) {
            return py::none();
        }
        return py::bytes(reinterpret_cast<const char*>(buf.data()), r->size);
    }

    // Up to max_messages copies: waits (up to timeout) for the first, then takes only what is
    // already there. One call and one gate for many messages: the cheap way to drain small ones.
    py::list receive_batch(std::size_t max_messages, const py::object& timeout) {
        const GateScope<ipckit::Sample> in(gate_, "Subscriber");
        ipckit::Subscriber& s = get();
        py::list out;
        if (max_messages == 0) {
            return out;
        }
        std::vector<std::byte> buf;
        auto got = wait_sliced(to_deadline(timeout),
                               [&s, &buf](ipckit::Deadline d) { return s.receive_until(buf, d); });
        for (auto r = unwrap(std::move(got)); r;
             r = unwrap(s.receive_until(buf, ipckit::Deadline::now()))) {
            out.append(py::bytes(reinterpret_cast<const char*>(buf.data()), r->size));
            if (out.size() == max_messages) {
                break;
            }
        }
        return out;
    }

    int fileno() {
        const GateScope<ipckit::Sample> in(gate_, "Subscriber");
        return unwrap(get().notification_fd());
    }

    template <class F>
    auto query(F&& f) {
        const GateScope<ipckit::Sample> in(gate_, "Subscriber");
        return f(get());
    }

    void close() {
        const GateScope<ipckit::Sample> in(gate_, "Subscriber");
        if (!sub_) {
            return;
        }
        for (PySample* s : live_) {
            if (s->exports() > 0) {
                throw py::buffer_error(
                    "ipckit.Subscriber.close: a sample still has an exported buffer "
                    "(release the memoryview/array first)");
            }
        }
        for (PySample* s : live_) {
            auto taken = s->take();  // released here, before the subscriber goes
        }
        live_.clear();
        gate_.drain();
        sub_.reset();
    }
    [[nodiscard]] bool closed() const noexcept { return !sub_.has_value(); }

    // From PySample (GIL held).
    void give_back(PySample* who, std::optional<ipckit::Sample> s) {
        std::erase(live_, who);
        if (s) {
            gate_.dispose(std::move(*s));
        }
    }

private:
    std::optional<ipckit::Subscriber> sub_;
    std::vector<PySample*> live_;  // Python samples of this subscriber not yet destroyed
    Gate<ipckit::Sample> gate_;
};

PySample::~PySample() {
    sub_->give_back(this, take());
}

void PySample::release() {
    if (released()) {
        throw py::value_error("ipckit.Sample.release: the sample was already released");
    }
    if (exports_ > 0) {
        throw py::buffer_error(
            "ipckit.Sample.release: cannot release a sample while a memoryview or array of it "
            "exists (release the view first)");
    }
    sub_->give_back(this, take());
}

// ---- publisher side

class PyPublisher;

// Writable space for one message in the shared memory; consumed by Publisher.publish().
class PyLoan {
public:
    PyLoan(py::object owner, PyPublisher* pub, ipckit::Loan loan)
        : owner_(std::move(owner)), pub_(pub), loan_(std::move(loan)) {}
    PyLoan(const PyLoan&) = delete;
    PyLoan& operator=(const PyLoan&) = delete;
    PyLoan(PyLoan&&) = delete;
    PyLoan& operator=(PyLoan&&) = delete;
    ~PyLoan();

    [[nodiscard]] bool done() const noexcept { return !loan_.has_value(); }
    ipckit::Loan& get() {
        if (!loan_) {
            throw py::value_error("ipckit.Loan: the loan was already published or discarded");
        }
        return *loan_;
    }
    std::optional<ipckit::Loan> take() noexcept { return std::exchange(loan_, std::nullopt); }
    void discard();
    [[nodiscard]] const PyPublisher* publisher() const noexcept { return pub_; }
    [[nodiscard]] Py_ssize_t exports() const noexcept { return exports_; }
    void add_export() noexcept { ++exports_; }
    void drop_export() noexcept { --exports_; }

private:
    Py_ssize_t exports_ = 0;
    py::object owner_;  // the Python Publisher: keeps the mapping alive
    PyPublisher* pub_;
    std::optional<ipckit::Loan> loan_;
};

class PyPublisher {
public:
    explicit PyPublisher(ipckit::Publisher p) : pub_(std::move(p)) {}
    PyPublisher(const PyPublisher&) = delete;
    PyPublisher& operator=(const PyPublisher&) = delete;
    PyPublisher(PyPublisher&&) = delete;
    PyPublisher& operator=(PyPublisher&&) = delete;
    ~PyPublisher() { gate_.drain(); }

    ipckit::Publisher& get() {
        if (!pub_) {
            throw py::value_error("ipckit.Publisher: I/O operation on a closed publisher");
        }
        return *pub_;
    }

    py::object loan(const py::object& self, std::size_t n, const py::object& timeout) {
        const GateScope<ipckit::Loan> in(gate_, "Publisher");
        ipckit::Publisher& p = get();
        auto got = wait_sliced(to_deadline(timeout),
                               [&p, n](ipckit::Deadline d) { return p.loan_until(n, d); });
        auto loan = unwrap(std::move(got));
        if (!loan) {
            return py::none();
        }
        auto* made = new PyLoan(self, this, std::move(*loan));
        live_ = made;
        return py::cast(made, py::return_value_policy::take_ownership);
    }

    void publish(PyLoan& loan, const py::object& size_arg) {
        if (loan.publisher() != this) {
            throw py::value_error(
                "ipckit.Publisher.publish: the loan belongs to another publisher");
        }
        const GateScope<ipckit::Loan> in(gate_, "Publisher");
        ipckit::Publisher& p = get();
        ipckit::Loan& l = loan.get();
        if (loan.exports() > 0) {
            throw py::buffer_error(
                "ipckit.Publisher.publish: a memoryview of the loan still exists (release it "
                "first: a published message must not change)");
        }
        if (!size_arg.is_none()) {
            const auto size = size_arg.cast<std::size_t>();
            if (size > l.capacity()) {
                throw py::value_error("ipckit.Publisher.publish: size " + std::to_string(size) +
                                      " > the loan's " + std::to_string(l.capacity()) + " bytes");
            }
            l.resize(size);
        }
        auto taken = loan.take();
        live_ = nullptr;
        unwrap(p.publish(std::move(*taken)));
    }

    bool send(const py::object& data, const py::object& timeout) {
        Py_buffer view;
        if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_SIMPLE) != 0) {
            throw py::error_already_set();  // TypeError: a bytes-like object is required
        }
        class ViewGuard {
        public:
            explicit ViewGuard(Py_buffer* v) : v_(v) {}
            ViewGuard(const ViewGuard&) = delete;
            ViewGuard& operator=(const ViewGuard&) = delete;
            ViewGuard(ViewGuard&&) = delete;
            ViewGuard& operator=(ViewGuard&&) = delete;
            ~ViewGuard() { PyBuffer_Release(v_); }

        private:
            Py_buffer* v_;
        } const guard(&view);
        const GateScope<ipckit::Loan> in(gate_, "Publisher");
        ipckit::Publisher& p = get();
        const std::span<const std::byte> bytes(static_cast<const std::byte*>(view.buf),
                                               static_cast<std::size_t>(view.len));
        auto sent = wait_sliced(to_deadline(timeout), [&p, bytes](ipckit::Deadline d) {
            using R = ipckit::Result<std::optional<bool>>;
            auto r = p.send_until(bytes, d);
            if (!r) {
                return R(std::move(r).error());
            }
            return *r ? R(std::optional<bool>(true)) : R(std::optional<bool>());
        });
        return unwrap(std::move(sent)).has_value();
    }

    template <class F>
    auto query(F&& f) {
        const GateScope<ipckit::Loan> in(gate_, "Publisher");
        return f(get());
    }

    void close() {
        const GateScope<ipckit::Loan> in(gate_, "Publisher");
        if (!pub_) {
            return;
        }
        if (live_ != nullptr) {
            if (live_->exports() > 0) {
                throw py::buffer_error(
                    "ipckit.Publisher.close: the loan still has an exported buffer (release the "
                    "memoryview first)");
            }
            auto dropped = live_->take();
            live_ = nullptr;
        }
        gate_.drain();
        pub_.reset();
    }
    [[nodiscard]] bool closed() const noexcept { return !pub_.has_value(); }

    void give_back(PyLoan* who, std::optional<ipckit::Loan> l) {
        if (live_ == who) {
            live_ = nullptr;
        }
        if (l) {
            gate_.dispose(std::move(*l));
        }
    }

private:
    std::optional<ipckit::Publisher> pub_;
    PyLoan* live_ = nullptr;  // the outstanding Python loan, if any
    Gate<ipckit::Loan> gate_;
};

PyLoan::~PyLoan() {
    pub_->give_back(this, take());
}

void PyLoan::discard() {
    if (done()) {
        throw py::value_error("ipckit.Loan.discard: the loan was already published or discarded");
    }
    if (exports_ > 0) {
        throw py::buffer_error(
            "ipckit.Loan.discard: a memoryview of the loan still exists (release it first)");
    }
    pub_->give_back(this, take());
}

// ---- buffer protocol with export counting (pybind11's def_buffer cannot count releases)

template <class T>
T* cast_self(PyObject* obj) {
    try {
        return py::cast<T*>(py::handle(obj));
    } catch (const std::exception&) {
        return nullptr;
    }
}

int sample_getbuffer(PyObject* obj, Py_buffer* view, int flags) {
    view->obj = nullptr;
    auto* s = cast_self<PySample>(obj);
    if (s == nullptr) {
        PyErr_SetString(PyExc_TypeError, "not an ipckit.Sample");
        return -1;
    }
    if (s->released()) {
        PyErr_SetString(PyExc_ValueError, "ipckit.Sample: the sample was released");
        return -1;
    }
    if ((flags & PyBUF_WRITABLE) == PyBUF_WRITABLE) {
        PyErr_SetString(PyExc_BufferError, "ipckit.Sample is read-only (shared memory)");
        return -1;
    }
    const ipckit::Sample& sample = s->get();
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): the buffer is exported read-only
    void* data = const_cast<std::byte*>(sample.data());
    if (PyBuffer_FillInfo(view, obj, data, static_cast<Py_ssize_t>(sample.size()), 1, flags) != 0) {
        return -1;
    }
    s->add_export();
    return 0;
}

void sample_releasebuffer(PyObject* obj, Py_buffer* /*view*/) {
    if (auto* s = cast_self<PySample>(obj)) {
        s->drop_export();
    }
}

int loan_getbuffer(PyObject* obj, Py_buffer* view, int flags) {
    view->obj = nullptr;
    auto* l = cast_self<PyLoan>(obj);
    if (l == nullptr) {
        PyErr_SetString(PyExc_TypeError, "not an ipckit.Loan");
        return -1;
    }
    if (l->done()) {
        PyErr_SetString(PyExc_ValueError,
                        "ipckit.Loan: the loan was already published or discarded");
        return -1;
    }
    ipckit::Loan& loan = l->get();
    if (PyBuffer_FillInfo(
            view, obj, loan.data(), static_cast<Py_ssize_t>(loan.capacity()), 0, flags) != 0) {
        return -1;
    }
    l->add_export();
    return 0;
}

void loan_releasebuffer(PyObject* obj, Py_buffer* /*view*/) {
    if (auto* l = cast_self<PyLoan>(obj)) {
        l->drop_export();
    }
}

void install_buffer_slots(const py::handle& cls, getbufferproc get, releasebufferproc release) {
    auto* type = reinterpret_cast<PyHeapTypeObject*>(cls.ptr());
    type->as_buffer.bf_getbuffer = get;
    type->as_buffer.bf_releasebuffer = release;
    reinterpret_cast<PyTypeObject*>(cls.ptr())->tp_as_buffer = &type->as_buffer;
}

}  // namespace

PYBIND11_MODULE(_ipckit, m) {
    m.doc() =
        "ipckit: zero-copy publish/subscribe over shared memory, shared with C and C++ "
        "processes.";
    m.attr("__version__") = ipckit::kVersion;

    ipckit_py::g_error_type = PyErr_NewExceptionWithDoc(
        "ipckit.Error",
        "An ipckit call failed: errno is the system error number, strerror the ipckit message "
        "naming the operation and the object.",
        PyExc_OSError,
        nullptr);
    m.attr("Error") = py::handle(ipckit_py::g_error_type);
    ipckit_py::bind_posix_objects(m);

    // ---- Channel
    py::class_<ipckit::Channel> channel(
        m, "Channel", "Static operations on channel files (NAME or chan:NAME).");
    def_config_factory(
        channel,
        "create",
        [](const std::string& name, const ipckit::ChannelConfig& c) {
            unwrap(ipckit::Channel::create(name, c));
        },
        "Creates the channel file exclusively (ipckit.Error EEXIST when it exists).");
    channel.def_static(
        "remove",
        [](const std::string& name, const std::optional<std::string>& dir) {
            unwrap(ipckit::Channel::remove(name, make_options(dir)));
        },
        py::arg("name"),
        py::kw_only(),
        py::arg("dir") = py::none(),
        "Unlinks the channel file (ipckit.Error ENOENT when there is none). Open participants "
        "keep working on their mapping.");

    // ---- Sample
    py::class_<PySample> sample(m,
                                "Sample",
                                py::buffer_protocol(),
                                "A received message: a read-only buffer over the shared memory. "
                                "memoryview(sample) and numpy.frombuffer(sample) do not copy. "
                                "release() or leaving `with sample:` gives it back; while a view "
                                "of it exists, release() raises BufferError.");
    install_buffer_slots(sample, sample_getbuffer, sample_releasebuffer);
    sample.def("__len__", [](const PySample& s) { return s.get().size(); })
        .def_property_readonly(
            "size", [](const PySample& s) { return s.get().size(); }, "Bytes in the message.")
        .def_property_readonly(
            "publisher",
            [](const PySample& s) { return s.get().publisher(); },
            "Publisher lane it came from (order is kept per lane).")
        .def_property_readonly(
            "lost_before",
            [](const PySample& s) { return s.get().lost_before(); },
            "Messages of this publisher lost just before this one.")
        .def_property_readonly(
            "still_valid",
            [](const PySample& s) { return s.get().still_valid(); },
            "Overwrite mode: False once the publisher may have overwritten the bytes.")
        .def_property_readonly("released", &PySample::released, "True after release().")
        .def(
            "tobytes",
            [](const PySample& s) {
                const auto& v = s.get();
                return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
            },
            "A copy of the message as bytes.")
        .def("release",
             &PySample::release,
             "Gives the sample back (its space may be reused). BufferError while a memoryview "
             "or array of it exists; ValueError when it was already released.")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PySample& s, const py::args&) {
            if (!s.released()) {  // released inside the block is fine
                s.release();
            }
        });

    // ---- Loan
    py::class_<PyLoan> loan(m,
                            "Loan",
                            py::buffer_protocol(),
                            "Writable space for one message in the shared memory, from "
                            "Publisher.loan(); memoryview(loan) writes in place. Consumed by "
                            "Publisher.publish(); leaving `with loan:` unpublished discards it.");
    install_buffer_slots(loan, loan_getbuffer, loan_releasebuffer);
    loan.def("__len__", [](PyLoan& l) { return l.get().capacity(); })
        .def_property_readonly(
            "capacity", [](PyLoan& l) { return l.get().capacity(); }, "Bytes of the loan.")
        .def_property_readonly("done", &PyLoan::done, "True once published or discarded.")
        .def("discard",
             &PyLoan::discard,
             "Gives the space back unpublished. BufferError while a memoryview of it exists.")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyLoan& l, const py::args&) {
            if (!l.done()) {
                l.discard();
            }
        });

    // ---- Publisher
    py::class_<PyPublisher> pub(m,
                                "Publisher",
                                "One publisher of a channel (its own lane). Not thread-safe: a "
                                "call from a second thread while one runs raises RuntimeError.");
    def_config_factory(
        pub,
        "create",
        [](const std::string& name, const ipckit::ChannelConfig& c) {
            return new PyPublisher(unwrap(ipckit::Publisher::create(name, c)));
        },
        "Creates the channel (exclusive) and joins it.");
    def_config_factory(
        pub,
        "open_or_create",
        [](const std::string& name, const ipckit::ChannelConfig& c) {
            return new PyPublisher(unwrap(ipckit::Publisher::open_or_create(name, c)));
        },
        "Joins the channel, creating it if absent; an existing one must match the configuration.");
    pub.def_static(
           "open",
           [](const std::string& name, const std::optional<std::string>& dir) {
               return new PyPublisher(unwrap(ipckit::Publisher::open(name, make_options(dir))));
           },
           py::arg("name"),
           py::kw_only(),
           py::arg("dir") = py::none(),
           "Joins an existing channel.")
        .def(
            "loan",
            [](const py::object& self, std::size_t n, const py::object& timeout) {
                return self.cast<PyPublisher&>().loan(self, n, timeout);
            },
            py::arg("n"),
            py::arg("timeout") = py::none(),
            "Writable space for n bytes (ipckit.Error EMSGSIZE above max_message_size), waiting "
            "up to timeout seconds for space in block mode (None: forever, 0: try). Returns None "
            "on timeout.")
        .def("publish",
             &PyPublisher::publish,
             py::arg("loan"),
             py::arg("size") = py::none(),
             "Publishes the loan (its first `size` bytes, default all). BufferError while a "
             "memoryview of it exists.")
        .def("send",
             &PyPublisher::send,
             py::arg("data"),
             py::arg("timeout") = py::none(),
             "Copies a bytes-like object into a new message (TypeError for anything else). "
             "Returns False if no space came within timeout seconds (block mode).")
        .def_property_readonly(
            "max_message_size",
            [](PyPublisher& p) {
                return p.query([](ipckit::Publisher& x) { return x.max_message_size(); });
            })
        .def_property_readonly(
            "published",
            [](PyPublisher& p) {
                return p.query([](ipckit::Publisher& x) { return x.published_count(); });
            },
            "Messages published through this publisher.")
        .def_property_readonly(
            "lane",
            [](PyPublisher& p) { return p.query([](ipckit::Publisher& x) { return x.lane(); }); })
        .def_property_readonly("closed", &PyPublisher::closed)
        .def("close",
             &PyPublisher::close,
             "Leaves the channel (an outstanding loan is discarded). Further calls raise "
             "ValueError.")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyPublisher& p, const py::args&) { p.close(); });

    // ---- Subscriber
    py::class_<PySubscriber> sub(m,
                                 "Subscriber",
                                 "One subscriber of a channel: receives every message published "
                                 "after it joined. Not thread-safe: a call from a second thread "
                                 "while one runs raises RuntimeError.");
    def_config_factory(
        sub,
        "create",
        [](const std::string& name, const ipckit::ChannelConfig& c) {
            return new PySubscriber(unwrap(ipckit::Subscriber::create(name, c)));
        },
        "Creates the channel (exclusive) and joins it.");
    def_config_factory(
        sub,
        "open_or_create",
        [](const std::string& name, const ipckit::ChannelConfig& c) {
            return new PySubscriber(unwrap(ipckit::Subscriber::open_or_create(name, c)));
        },
        "Joins the channel, creating it if absent; an existing one must match the configuration.");
    sub.def_static(
           "open",
           [](const std::string& name, const std::optional<std::string>& dir) {
               return new PySubscriber(unwrap(ipckit::Subscriber::open(name, make_options(dir))));
           },
           py::arg("name"),
           py::kw_only(),
           py::arg("dir") = py::none(),
           "Joins an existing channel.")
        .def(
            "receive",
            [](const py::object& self, const py::object& timeout) {
                return self.cast<PySubscriber&>().receive(self, timeout);
            },
            py::arg("timeout") = py::none(),
            "The next message as a zero-copy Sample, waiting up to timeout seconds (None: "
            "forever, 0: try). Returns None on timeout. ipckit.Error ENOBUFS when max_loans "
            "samples are held.")
        .def("receive_bytes",
             &PySubscriber::receive_bytes,
             py::arg("timeout") = py::none(),
             "The next message copied into bytes, or None on timeout.")
        .def("receive_batch",
             &PySubscriber::receive_batch,
             py::arg("max_messages"),
             py::arg("timeout") = py::none(),
             "Up to max_messages messages copied into a list of bytes: waits up to timeout "
             "seconds for the first, then takes only those already there. [] on timeout.")
        .def("fileno",
             &PySubscriber::fileno,
             "A descriptor that polls readable when messages may be waiting (for select and "
             "asyncio; owned by the subscriber). Starts a helper thread on first use.")
        .def_property_readonly(
            "received",
            [](PySubscriber& s) {
                return s.query([](ipckit::Subscriber& x) { return x.received_count(); });
            })
        .def_property_readonly(
            "lost",
            [](PySubscriber& s) {
                return s.query([](ipckit::Subscriber& x) { return x.lost_count(); });
            },
            "Messages lost (overwrite mode, or a publisher that died mid-publish).")
        .def_property_readonly(
            "corrupt",
            [](PySubscriber& s) {
                return s.query([](ipckit::Subscriber& x) { return x.corrupt_count(); });
            },
            "Corrupt records skipped.")
        .def_property_readonly(
            "max_message_size",
            [](PySubscriber& s) {
                return s.query([](ipckit::Subscriber& x) { return x.max_message_size(); });
            })
        .def_property_readonly("closed", &PySubscriber::closed)
        .def("close",
             &PySubscriber::close,
             "Leaves the channel; samples still held are released. BufferError while a view of "
             "one exists. Further calls raise ValueError.")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PySubscriber& s, const py::args&) { s.close(); });
}
