// SPDX-License-Identifier: MIT
// Squatting through the real binary (issue 16 defect 6, D14/D17): nobody (uid 65534) creates an
// object first; root's send/recv/sem refuse it with exit 4 naming the owner, and accept it with
// --trust-owner. Root is not exempt: root opening a squatted object is exactly the attack.
#include "cli_support.hpp"
#include "ipc_registry.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

class CliOwnership : public ::testing::Test {
protected:
    void SetUp() override {
        if (!test::is_root() || ::access("/usr/bin/setpriv", X_OK) != 0) {
            GTEST_SKIP() << "needs root and setpriv(1) to act as another user";
        }
        // Root-owned, sticky and world-writable (like /tmp): nobody may make FIFOs and channel
        // files here, and the channel directory check accepts it.
        std::string templ = "/tmp/ipckit-test-" + std::to_string(::getpid()) + "-ocli-XXXXXX";
        ASSERT_NE(::mkdtemp(templ.data()), nullptr);
        dir_ = templ;
        ASSERT_EQ(::chmod(dir_.c_str(), 01777), 0);
    }
    void TearDown() override {
        if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }
    /// Expects `r` to be the refusal: exit 4, the owner named, the way out mentioned.
    static void expect_refused(const test::RunResult& r, const std::string& sub) {
        EXPECT_TRUE(r.exited && r.exit_code == 4) << r.describe();
        EXPECT_NE(r.err.find("ipckit " + sub + ": "), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("owned by nobody (uid 65534), not by you"), std::string::npos)
            << r.err;
        EXPECT_NE(r.err.find("--trust-owner"), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
    std::string dir_;
};

TEST_F(CliOwnership, SquattedSysvQueueIsNotReadUnlessItsOwnerIsTrusted) {
    const std::string uri =
        "sysvmq:" + std::to_string(test::unique_sysv_key(test::IpcKind::SysvMsg));
    auto planted = test::ipckit_as_nobody({"send", "--create", "--mode", "0666", uri, "planted"});
    ASSERT_EQ(planted.exit_code, 0) << planted.describe();
    expect_refused(test::ipckit({"recv", "--timeout", "0", uri}), "recv");
    expect_refused(test::ipckit({"send", uri, "secret"}), "send");
    expect_refused(test::ipckit({"send", "--create", uri, "secret"}), "send");
    auto r = test::ipckit({"recv", "--timeout", "0", "--trust-owner", "65534", uri});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, "planted\n");  // nothing was taken by the refused recv
}

TEST_F(CliOwnership, SquattedPosixQueueIsRefusedAndTrustedByName) {
    const std::string uri = "mq:" + test::unique_mq_name("ocli");
    auto planted = test::ipckit_as_nobody({"send", "--create", "--mode", "0666", uri, "planted"});
    ASSERT_EQ(planted.exit_code, 0) << planted.describe();
    expect_refused(test::ipckit({"recv", "--timeout", "0", uri}), "recv");
    expect_refused(test::ipckit({"send", uri, "secret"}), "send");
    auto r = test::ipckit({"recv", "--timeout", "0", "--trust-owner", "nobody", uri});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, "planted\n");
}

TEST_F(CliOwnership, SquattedFifoAndChannelAreRefusedUnlessTrusted) {
    const std::string fifo = "fifo:" + dir_ + "/f";
    // No reader: the send times out (3), leaving the FIFO it created.
    auto made =
        test::ipckit_as_nobody({"send", "--create", "--mode", "0666", "--timeout", "0", fifo, "m"});
    ASSERT_EQ(made.exit_code, 3) << made.describe();
    const std::string chan = "chan:c?dir=" + dir_;
    made = test::ipckit_as_nobody({"send", "--create", chan, "m"});
    ASSERT_EQ(made.exit_code, 0) << made.describe();
    for (const std::string& uri : {fifo, chan}) {
        expect_refused(test::ipckit({"recv", "--timeout", "0", uri}), "recv");
        expect_refused(test::ipckit({"send", "--timeout", "0", uri, "m"}), "send");
        // Trusted, it opens: nothing is waiting in it, so recv exits 3 (nothing to receive).
        auto r = test::ipckit({"recv", "--timeout", "0", "--trust-owner", "nobody", uri});
        EXPECT_EQ(r.exit_code, 3) << uri << ": " << r.describe();
    }
}

TEST_F(CliOwnership, SquattedSemaphoresAreRefusedUnlessTrusted) {
    const std::string posix = "sem:" + test::unique_sem_name("ocli");
    const std::string sysv =
        "sysvsem:" + std::to_string(test::unique_sysv_key(test::IpcKind::SysvSem));
    for (const std::string& uri : {posix, sysv}) {
        auto made = test::ipckit_as_nobody({"sem", "post", "--create", "--mode", "0666", uri});
        ASSERT_EQ(made.exit_code, 0) << made.describe();
        expect_refused(test::ipckit({"sem", "get", uri}), "sem");
        expect_refused(test::ipckit({"sem", "trywait", uri}), "sem");
        expect_refused(test::ipckit({"sem", "post", "--create", uri}), "sem");
        auto r = test::ipckit({"sem", "get", "--trust-owner", "65534", uri});
        EXPECT_EQ(r.exit_code, 0) << uri << ": " << r.describe();
        EXPECT_EQ(r.out, "1\n") << uri;  // the refused post/trywait changed nothing
    }
}

TEST_F(CliOwnership, TrustOwnerTakesAUserOrAUid) {
    const std::string uri = "mq:" + test::unique_mq_name("ocli");
    auto r = test::ipckit({"recv", "--timeout", "0", "--trust-owner", "no-such-user-xyz", uri});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("no-such-user-xyz"), std::string::npos) << r.err;
    r = test::ipckit({"send", "--trust-owner", "-1", uri, "m"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    r = test::ipckit({"sem", "get", "--trust-owner", "4294967295", "sem:/x"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    // Our own objects never need it, and trusting others does not stop us using ours.
    ASSERT_EQ(test::ipckit({"send", "--create", uri, "mine"}).exit_code, 0);
    r = test::ipckit({"recv", "--trust-owner", "nobody", "--trust-owner", "0", uri});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, "mine\n");
}

}  // namespace
}  // namespace ipckit
