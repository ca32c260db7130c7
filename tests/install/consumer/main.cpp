// A program outside the ipckit tree, built against the installed package (static or shared).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ipckit/core/posix_name.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/shm/region.hpp"
#include "ipckit/sync/ofd_lock.hpp"
#include "ipckit/version.hpp"

namespace {

int fail(const char* what) {
    std::fprintf(stderr, "consumer: %s\n", what);
    return 1;
}

}  // namespace

int main() {
    auto good = ipckit::PosixName::make("/consumer");
    auto bad = ipckit::PosixName::make("consumer");
    if (!good || bad) {
        return fail("PosixName::make");
    }
    std::printf("ipckit %s: %s\n", ipckit::kVersion, bad.error().message().c_str());

    // ResultError's typeinfo must be the library's (exported), or this catch would not match.
    try {
        (void)ipckit::PosixName::make("no-slash").value();
        return fail("value() on an error did not throw");
    } catch (const ipckit::ResultError& e) {
        if (e.error().op().empty()) {
            return fail("ResultError without an operation");
        }
    }

    // A POSIX queue round trip: classes and their out-of-line members across the library boundary.
    const std::string name = "/ipckit-test-consumer-" + std::to_string(::getpid());
    auto qname = ipckit::PosixName::make(name).value();
    auto q = ipckit::PosixMq::create(qname, {.max_messages = 2, .max_message_size = 64});
    if (!q) {
        std::fprintf(stderr, "%s\n", q.error().message().c_str());
        return fail("PosixMq::create");
    }
    const bool sent = q->send(std::string_view("hello"), 3).has_value();
    auto got = q->receive();
    (void)ipckit::PosixMq::unlink(qname);
    if (!sent || !got || got->text() != "hello" || got->priority != 3) {
        return fail("PosixMq send/receive");
    }

    // Header templates that call into the library (detail::check_typed_range) and a CRTP lock.
    auto region = ipckit::Region::anonymous(4096);
    if (!region) {
        return fail("Region::anonymous");
    }
    auto counter = region->construct<std::atomic<unsigned>>(64, 41U);
    if (!counter || ++**counter != 42 || region->as<std::atomic<unsigned>>(1)) {
        return fail("Region construct/as (a misaligned offset must be refused)");
    }
    char path[] = "/tmp/ipckit-consumer-lock-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) {
        return fail("mkstemp");
    }
    ::close(fd);
    auto lock = ipckit::OfdLock::open(path);
    const bool locked = lock && lock->try_acquire(ipckit::LockKind::Exclusive).value_or(false);
    ::unlink(path);
    if (!locked) {
        return fail("OfdLock");
    }
    std::puts("consumer ok");
    return 0;
}
