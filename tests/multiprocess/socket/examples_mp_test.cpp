// SPDX-License-Identifier: MIT
// Runs the socket examples as separate, exec'd programs and checks what they print.
#include "eventually.hpp"
#include "ipc_registry.hpp"
#include "run_program.hpp"
#include "socket_test_util.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <thread>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// Starts a program in the background; get() waits for it and returns its result.
std::future<test::RunResult> start(std::vector<std::string> argv) {
    return std::async(std::launch::async, [argv = std::move(argv)] {
        test::RunOptions o;
        o.timeout = 20s;
        return test::run_program(argv, o);
    });
}

// Waits until `path` exists (the server has bound it), up to 10 s.
::testing::AssertionResult wait_for_path(const std::string& path) {
    return test::eventually(
        10s, "the server to bind " + path, [&] { return socket_test::path_exists(path); }, 5ms);
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

TEST(SocketExamples, EchoServerAndClientOverAUnixStreamSocket) {
    const std::string path = test::unique_path("echo.sock");
    auto server = start({test::build_path("examples/example_unix_echo_server"), path, "1"});
    ASSERT_TRUE(wait_for_path(path));
    auto client = test::run_program({test::build_path("examples/example_unix_echo_client"),
                                     "--wait",
                                     path,
                                     "hello",
                                     "second message"});
    EXPECT_EQ(client.exit_code, 0) << client.describe();
    EXPECT_EQ(client.out, "echo: hello\necho: second message\n") << client.describe();
    auto s = server.get();
    EXPECT_EQ(s.exit_code, 0) << s.describe();
    EXPECT_TRUE(contains(s.out, "listening on " + path)) << s.out;
    EXPECT_TRUE(contains(s.out, "sent 2 messages")) << s.out;
    EXPECT_FALSE(socket_test::path_exists(path));  // the server removed its socket file
}

TEST(SocketExamples, EchoClientWithNoServerFailsAtOnceNamingThePath) {
    const std::string path = test::unique_path("noserver.sock");
    test::RunOptions o;
    o.timeout = 20s;
    auto client =
        test::run_program({test::build_path("examples/example_unix_echo_client"), path, "x"}, o);
    EXPECT_EQ(client.exit_code, 1) << client.describe();
    EXPECT_TRUE(contains(client.err, "connect " + path)) << client.err;
}

TEST(SocketExamples, AnOpenDescriptorPassesToAnUnrelatedProcess) {
    const std::string path = test::unique_path("fdpass.sock");
    const std::string file = test::unique_path("secret.txt");
    std::ofstream(file) << "the file's contents";
    auto server = start({test::build_path("examples/example_fd_pass_server"), path, file});
    ASSERT_TRUE(wait_for_path(path));
    auto client = test::run_program({test::build_path("examples/example_fd_pass_client"), path});
    EXPECT_EQ(client.exit_code, 0) << client.describe();
    EXPECT_TRUE(contains(client.out, "(19 bytes): the file's contents")) << client.describe();
    auto s = server.get();
    EXPECT_EQ(s.exit_code, 0) << s.describe();
    EXPECT_TRUE(contains(s.out, "sent descriptor of " + file)) << s.out;
    ::unlink(file.c_str());
    EXPECT_FALSE(socket_test::path_exists(path));
}

TEST(SocketExamples, APythonPeerTalksStreamAndDatagram) {
    if (::access("/usr/bin/python3", X_OK) != 0) {
        GTEST_SKIP() << "python3 is not installed";
    }
    const std::string stream_path = test::unique_path("py-stream.sock");
    const std::string dgram_path = test::unique_path("py-dgram.sock");
    const std::string client_path = test::unique_path("py-client.sock");
    const std::string script = std::string(IPCKIT_SOURCE_DIR) + "/examples/socket/peer.py";
    ASSERT_TRUE(socket_test::path_exists(script)) << script;
    auto server =
        start({test::build_path("examples/example_socket_python_peer"), stream_path, dgram_path});
    ASSERT_TRUE(wait_for_path(stream_path));
    test::RunOptions o;
    o.timeout = 20s;
    auto py = test::run_program({"/usr/bin/python3",
                                 script,
                                 stream_path,
                                 dgram_path,
                                 client_path,
                                 "hello from python",
                                 "second"},
                                o);
    EXPECT_EQ(py.exit_code, 0) << py.describe();
    EXPECT_TRUE(contains(py.out, "python got: HELLO FROM PYTHON\npython got: SECOND\n")) << py.out;
    EXPECT_TRUE(contains(py.out, "python got datagram: ack: ping from " + dgram_path)) << py.out;
    auto s = server.get();
    EXPECT_EQ(s.exit_code, 0) << s.describe();
    EXPECT_TRUE(contains(s.out, "stream got: hello from python\nstream got: second\n")) << s.out;
    EXPECT_TRUE(contains(s.out, "datagram got: ping from " + client_path)) << s.out;
    EXPECT_FALSE(socket_test::path_exists(stream_path));
    EXPECT_FALSE(socket_test::path_exists(dgram_path));
    EXPECT_FALSE(socket_test::path_exists(client_path));
}

}  // namespace
}  // namespace ipckit
