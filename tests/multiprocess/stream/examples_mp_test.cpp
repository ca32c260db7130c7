// SPDX-License-Identifier: MIT
// Every examples/stream program, built and run, its output checked.
#include <fstream>

#include <gtest/gtest.h>

#include "ipc_registry.hpp"
#include "run_program.hpp"

namespace ipckit {
namespace {

std::string example(const std::string& name) { return test::build_path("examples/example_" + name); }

std::string write_file(const std::string& text) {
    const std::string path = test::unique_path("input.txt");
    std::ofstream(path) << text;
    return path;
}

test::RunOptions env(std::vector<std::string> entries) {
    test::RunOptions o;
    o.env = std::move(entries);
    return o;
}

test::RunOptions input(std::string text) {
    test::RunOptions o;
    o.input = std::move(text);
    return o;
}

#define EXPECT_RAN_OK(r) EXPECT_TRUE((r).exited && (r).exit_code == 0) << (r).describe()

TEST(StreamExamples, Program15_5ParentToChildPipe) {
    auto r = test::run_program({example("stream_pipe_parent_child")});
    EXPECT_RAN_OK(r);
    EXPECT_EQ(r.out, "hello world\n");
}

TEST(StreamExamples, Program15_7TellWaitAlternatesParentAndChild) {
    auto r = test::run_program({example("stream_tell_wait")});
    EXPECT_RAN_OK(r);
    EXPECT_EQ(r.out, "parent 0\nchild 0\nparent 1\nchild 1\nparent 2\nchild 2\n");
}

TEST(StreamExamples, Program15_11PagerUsesPagerFromTheEnvironment) {
    const std::string file = write_file("first line\nsecond line\nno newline");
    auto r = test::run_program({example("stream_popen_pager"), file}, env({"PAGER=cat"}));
    EXPECT_RAN_OK(r);
    EXPECT_EQ(r.out, "first line\nsecond line\nno newline");
    // PAGER with options goes through /bin/sh -c, as with popen.
    auto numbered = test::run_program({example("stream_popen_pager"), file}, env({"PAGER=cat -n"}));
    EXPECT_RAN_OK(numbered);
    EXPECT_EQ(numbered.out.substr(0, 17), "     1\tfirst line");
}

TEST(StreamExamples, Program15_11PagerDefaultIsSafeWithoutATerminal) {
    const std::string file = write_file("only line\n");
    auto r = test::run_program({example("stream_popen_pager"), file}, env({"PAGER="}));
    EXPECT_RAN_OK(r);
    EXPECT_EQ(r.out, "only line\n");
}

TEST(StreamExamples, Program15_11PagerThatQuitsEarlyIsNotAnError) {
    std::string big;
    for (int i = 0; i < 50000; ++i) {
        big += "line " + std::to_string(i) + "\n";
    }
    const std::string file = write_file(big);
    auto r = test::run_program({example("stream_popen_pager"), file}, env({"PAGER=head -n 1"}));
    EXPECT_RAN_OK(r);  // EPIPE ends the copy; no SIGPIPE kills the program
    EXPECT_EQ(r.out, "line 0\n");
}

TEST(StreamExamples, Program15_11PagerThatDoesNotExistIsReported) {
    const std::string file = write_file("x\n");
    auto r = test::run_program({example("stream_popen_pager"), file}, env({"PAGER=ipckit-no-such-pager"}));
    EXPECT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("exited 127"), std::string::npos) << r.err;  // the shell's verdict, named
}

TEST(StreamExamples, Programs15_14And15_15FilterThroughPopen) {
    auto r = test::run_program({example("stream_popen_filter")}, input("Hello World\nSECOND Line\n"));
    EXPECT_RAN_OK(r);
    EXPECT_EQ(r.out, "prompt> hello world\nprompt> second line\nprompt> \n");
    auto alone = test::run_program({example("stream_myucl")}, input("MiXeD\n"));
    EXPECT_RAN_OK(alone);
    EXPECT_EQ(alone.out, "mixed\n");
}

TEST(StreamExamples, FifoClientServerWithPerClientFifos) {
    auto r = test::run_program({example("stream_fifo_client_server")});
    EXPECT_RAN_OK(r);
    EXPECT_EQ(r.out,
              "client 1: HELLO FROM CLIENT 1\n"
              "client 2: HELLO FROM CLIENT 2\n"
              "client 3: HELLO FROM CLIENT 3\n"
              "server: served 3 requests\n");
}

TEST(StreamExamples, FifoClientWithoutServerFailsClearly) {
    const std::string path = test::unique_path("absent-server");
    auto r = test::run_program({example("stream_fifo_client_server"), "client", path, "hi"});
    EXPECT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

TEST(StreamExamples, TeeThroughAFifoDuplicatesTheStream) {
    const std::string file = write_file("alpha\nbeta\ngamma\n");
    auto r = test::run_program({example("stream_tee_fifo"), file});
    EXPECT_RAN_OK(r);
    EXPECT_EQ(r.out,
              "prog2 (cat -n):\n"
              "     1\tALPHA\n"
              "     2\tBETA\n"
              "     3\tGAMMA\n"
              "prog3 (wc -c < fifo1): 17\n");
}

}  // namespace
}  // namespace ipckit
