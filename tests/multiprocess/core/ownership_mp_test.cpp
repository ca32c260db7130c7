// SPDX-License-Identifier: MIT
// Squatting (issue 16 defect 6, RELIABILITY D14/D17): another uid creates the object first (mode
// 0666) and waits for us to open it. Every facility refuses such an object by default, naming
// the owner, and accepts it when its owner is trusted. Runs as root: the squatter is a forked
// child that became uid 65534; root is the victim (root is not exempt).
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/endpoint/endpoint.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"
#include "ipckit/shm/posix_shm.hpp"
#include "ipckit/shm/sysv_shm.hpp"
#include "ipckit/stream/fifo.hpp"
#include "ipckit/sync/named_semaphore.hpp"
#include "ipckit/sync/sysv_semaphore_set.hpp"

#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <grp.h>
#include <string>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;

Ownership trusting_nobody() {
    Ownership o;
    o.trust(kNobody);
    return o;
}

/// Expects `r` to be the ownership refusal naming nobody as the owner.
template <class T>
void expect_refused(const Result<T>& r, const std::string& what) {
    ASSERT_FALSE(r) << what << ": opened a squatted object";
    EXPECT_TRUE(is_untrusted_owner(r.error())) << what << ": " << r.error().message();
    EXPECT_EQ(r.error(), std::errc::permission_denied) << what;
    EXPECT_NE(r.error().detail().find("uid 65534"), std::string::npos)
        << what << ": " << r.error().message();
    EXPECT_NE(r.error().detail().find("not by you (uid 0)"), std::string::npos)
        << what << ": " << r.error().message();
}

class Squatted : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "needs root to create objects as uid 65534";
        }
        // A root-owned sticky world-writable directory (like /tmp) for the FIFOs and channel
        // files the squatter makes: nobody may create there, and the channel dir check accepts it.
        std::string templ = "/tmp/ipckit-test-" + std::to_string(::getpid()) + "-own-XXXXXX";
        ASSERT_NE(::mkdtemp(templ.data()), nullptr);
        dir_ = templ;
        ASSERT_EQ(::chmod(dir_.c_str(), 01777), 0);
    }
    void TearDown() override {
        if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);  // every FIFO and channel file goes with it
        }
    }

    /// Runs `body` in a child that became uid/gid 65534 with umask 0 (so 0666 means 0666).
    static void as_nobody(const std::function<bool()>& body) {
        auto child = test::ForkedChild::spawn([&] {
            CHILD_CHECK(::setgroups(0, nullptr) == 0);
            CHILD_CHECK(::setresgid(kNobody, kNobody, kNobody) == 0);
            CHILD_CHECK(::setresuid(kNobody, kNobody, kNobody) == 0);
            ::umask(0);
            CHILD_CHECK(body());
            return 0;
        });
        EXPECT_CHILD_OK(child.wait_for(10s));
    }

    std::string dir_;
};

TEST_F(Squatted, PosixMqIsRefusedUnlessTheOwnerIsTrusted) {
    const auto name = PosixName::make(test::unique_mq_name("squat")).value();
    as_nobody([&] {
        auto q = PosixMq::create(name, {}, Permissions(0666));
        return q && q->send("planted");
    });
    expect_refused(PosixMq::open(name), "open");
    expect_refused(PosixMq::open(name, Access::ReadOnly), "open read-only");
    expect_refused(PosixMq::open_or_create(name), "open_or_create");
    auto trusted = PosixMq::open(name, Access::ReadWrite, trusting_nobody());
    ASSERT_TRUE(trusted) << trusted.error().message();
    EXPECT_EQ(trusted->receive().value().text(), "planted");
    EXPECT_TRUE(PosixMq::open(name, Access::ReadOnly, Ownership::any()));
}

TEST_F(Squatted, SysvMsgQueueIsRefusedByKeyAndByIdUnlessTrusted) {
    const auto key = SysvKey::from_number(test::unique_sysv_key(test::IpcKind::SysvMsg)).value();
    as_nobody([&] {
        auto q = SysvMsgQueue::create(key, Permissions(0666));
        return q && q->send(1, "planted");
    });
    expect_refused(SysvMsgQueue::open(key), "open");
    expect_refused(SysvMsgQueue::open_or_create(key), "open_or_create");
    auto trusted = SysvMsgQueue::open(key, trusting_nobody());
    ASSERT_TRUE(trusted) << trusted.error().message();
    expect_refused(SysvMsgQueue::from_id(trusted->id()), "from_id");
    EXPECT_TRUE(SysvMsgQueue::from_id(trusted->id(), trusting_nobody()));
    EXPECT_EQ(trusted->receive().value().text(), "planted");
}

TEST_F(Squatted, SysvQueueGivenToRootIsStillRefusedForItsCreator) {
    // The owner may hand a queue to any uid with IPC_SET: a squatter can make it look like ours.
    const auto key = SysvKey::from_number(test::unique_sysv_key(test::IpcKind::SysvMsg)).value();
    as_nobody([&] {
        auto q = SysvMsgQueue::create(key, Permissions(0666));
        if (!q) {
            return false;
        }
        msqid_ds ds{};
        if (::msgctl(q->id(), IPC_STAT, &ds) != 0) {
            return false;
        }
        ds.msg_perm.uid = 0;
        return ::msgctl(q->id(), IPC_SET, &ds) == 0;
    });
    auto refused = SysvMsgQueue::open(key);
    ASSERT_FALSE(refused);
    EXPECT_TRUE(is_untrusted_owner(refused.error())) << refused.error().message();
    EXPECT_NE(refused.error().detail().find("created by nobody (uid 65534)"), std::string::npos)
        << refused.error().message();
    EXPECT_TRUE(SysvMsgQueue::open(key, trusting_nobody()));
}

TEST_F(Squatted, SysvShmIsRefusedByKeyAndByIdUnlessTrusted) {
    const auto key = SysvKey::from_number(test::unique_sysv_key(test::IpcKind::SysvShm)).value();
    as_nobody([&] { return static_cast<bool>(SysvShm::create(key, 4096, Permissions(0666))); });
    expect_refused(SysvShm::open(key), "open");
    expect_refused(SysvShm::open(key, 4096, Access::ReadOnly), "open read-only");
    expect_refused(SysvShm::open_or_create(key, 4096), "open_or_create");
    auto trusted = SysvShm::open(key, 4096, Access::ReadWrite, trusting_nobody());
    ASSERT_TRUE(trusted) << trusted.error().message();
    expect_refused(SysvShm::from_id(trusted->id()), "from_id");
    EXPECT_TRUE(SysvShm::from_id(trusted->id(), trusting_nobody()));
}

TEST_F(Squatted, SysvSemaphoreSetIsRefusedByKeyAndByIdUnlessTrusted) {
    const auto key = SysvKey::from_number(test::unique_sysv_key(test::IpcKind::SysvSem)).value();
    const std::array<unsigned short, 1> one{1};
    as_nobody(
        [&] { return static_cast<bool>(SysvSemaphoreSet::create(key, one, Permissions(0666))); });
    expect_refused(SysvSemaphoreSet::open(key), "open");
    expect_refused(SysvSemaphoreSet::open_or_create(key, one), "open_or_create");
    auto trusted = SysvSemaphoreSet::open(key, Deadline::after(5s), trusting_nobody());
    ASSERT_TRUE(trusted) << trusted.error().message();
    expect_refused(SysvSemaphoreSet::from_id(trusted->id()), "from_id");
    EXPECT_TRUE(SysvSemaphoreSet::from_id(trusted->id(), trusting_nobody()));
    EXPECT_EQ(trusted->value(0).value(), 1);
}

TEST_F(Squatted, PosixShmIsRefusedUnlessTrusted) {
    const auto name = PosixName::make(test::unique_shm_name("squat")).value();
    as_nobody([&] {
        auto shm = PosixShm::create(name, 4096, Permissions(0666));
        if (!shm) {
            return false;
        }
        shm->keep_name();  // the squatter leaves it for us to find
        return true;
    });
    expect_refused(PosixShm::open(name), "open");
    expect_refused(PosixShm::open(name, Access::ReadOnly), "open read-only");
    expect_refused(PosixShm::open_or_create(name, 4096), "open_or_create");
    auto trusted = PosixShm::open(name, Access::ReadWrite, trusting_nobody());
    ASSERT_TRUE(trusted) << trusted.error().message();
    EXPECT_EQ(trusted->size().value(), 4096U);
}

TEST_F(Squatted, PosixSemaphoreIsRefusedUnlessTrusted) {
    const auto name = PosixName::make(test::unique_sem_name("squat")).value();
    as_nobody(
        [&] { return static_cast<bool>(NamedSemaphore::create(name, 3, Permissions(0666))); });
    expect_refused(NamedSemaphore::open(name), "open");
    expect_refused(NamedSemaphore::open_or_create(name, 0), "open_or_create");
    auto trusted = NamedSemaphore::open(name, trusting_nobody());
    ASSERT_TRUE(trusted) << trusted.error().message();
    EXPECT_EQ(trusted->value().value(), 3);
}

TEST_F(Squatted, FifoIsRefusedBeforeAnyOpenUnlessTrusted) {
    const std::string path = dir_ + "/fifo";
    as_nobody([&] {
        auto f = Fifo::create(path, Permissions(0666));
        if (!f) {
            return false;
        }
        (void)f->release();  // leave the path for us
        return true;
    });
    expect_refused(Fifo::open(path), "open");
    expect_refused(Fifo::open_or_create(path), "open_or_create");
    auto trusted = Fifo::open(path, trusting_nobody());
    ASSERT_TRUE(trusted) << trusted.error().message();
    EXPECT_TRUE(trusted->open_read_write(true));
}

TEST_F(Squatted, FifoSwappedAfterOpenIsRefusedWhenAnEndIsOpened) {
    // open() checked our own FIFO; then the path is replaced with a squatter's FIFO.
    const std::string path = dir_ + "/swapped";
    auto ours = Fifo::create(path).value();
    auto handle = Fifo::open(path).value();
    ASSERT_EQ(::unlink(path.c_str()), 0);
    as_nobody([&] {
        auto f = Fifo::create(path, Permissions(0666));
        if (!f) {
            return false;
        }
        (void)f->release();
        return true;
    });
    expect_refused(handle.open_read_write(true), "open_read_write");
    expect_refused(handle.open_reader(true), "open_reader");
    // A reader is there (else the writer's open is ENXIO before anything is opened).
    const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(reader, 0);
    expect_refused(handle.try_open_writer(), "try_open_writer");
    ::close(reader);
    (void)ours.release();  // the path is the squatter's now: remove_all takes it
}

TEST_F(Squatted, ChannelIsRefusedUnlessTrusted) {
    ChannelConfig config;
    config.lane_bytes = 4096;
    config.max_message_size = 1024;
    config.options.dir = dir_;
    config.permissions = Permissions(0644);
    as_nobody([&] { return static_cast<bool>(Channel::create("squat", config)); });
    ChannelOptions options;
    options.dir = dir_;
    expect_refused(Subscriber::open("squat", options), "Subscriber::open");
    options.ownership.trust(kNobody);
    auto trusted = Subscriber::open("squat", options);
    EXPECT_TRUE(trusted) << trusted.error().message();
}

TEST_F(Squatted, EndpointRefusesEverySchemeUnlessTrusted) {
    const std::string mq = test::unique_mq_name("ep");
    const auto key = test::unique_sysv_key(test::IpcKind::SysvMsg);
    const std::string fifo = dir_ + "/ep-fifo";
    ChannelConfig config;
    config.lane_bytes = 4096;
    config.max_message_size = 1024;
    config.options.dir = dir_;
    config.permissions = Permissions(0644);
    as_nobody([&] {
        auto f = Fifo::create(fifo, Permissions(0666));
        if (f) {
            (void)f->release();
        }
        return PosixMq::create(PosixName::make(mq).value(), {}, Permissions(0666)) &&
               SysvMsgQueue::create(SysvKey::from_number(static_cast<std::uint32_t>(key)).value(),
                                    Permissions(0666)) &&
               f && Channel::create("ep", config);
    });
    const std::array<std::string, 4> uris{
        "mq:" + mq, "sysvmq:" + std::to_string(key), "fifo:" + fifo, "chan:ep?dir=" + dir_};
    for (const std::string& text : uris) {
        const Uri uri = Uri::parse(text).value();
        expect_refused(Endpoint::open(uri, EndpointRole::Receiver), text + " receiver");
        EndpointOptions create;
        create.create = true;
        create.deadline = Deadline::now();
        expect_refused(Endpoint::open(uri, EndpointRole::Sender, create), text + " sender");
        EndpointOptions trusted;
        trusted.ownership.trust(kNobody);
        auto rx = Endpoint::open(uri, EndpointRole::Receiver, trusted);
        EXPECT_TRUE(rx) << text << ": " << rx.error().message();
    }
}

}  // namespace
}  // namespace ipckit
