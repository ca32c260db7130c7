// SPDX-License-Identifier: MIT
// Background: `ipckit ARGS...` started without waiting, stdout/stderr to files, so a test can act
// while it is blocked (e.g. recv listening) and then collect its exit status and output.
#pragma once

#include "cli_support.hpp"
#include "forked_child.hpp"
#include "ipc_registry.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ipckit::test {

class Background {
public:
    explicit Background(std::vector<std::string> args)
        : out_(unique_path("bgout")), err_(unique_path("bgerr")) {
        args.insert(args.begin(), ipckit_path());
        pid_ = ::fork();
        if (pid_ == 0) {
            const int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            const int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            ::dup2(o, 1);
            ::dup2(e, 2);
            std::vector<char*> argv;
            for (auto& a : args) {
                argv.push_back(a.data());
            }
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    ~Background() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    [[nodiscard]] pid_t pid() const { return pid_; }
    /// True once the exec'd ipckit sleeps (blocked in its receive / accept / wait). Checking the
    /// image first matters: a cold start pages the binary in, and the forked child may sleep
    /// before exec.
    bool wait_blocked() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        const std::string exe = "/proc/" + std::to_string(pid_) + "/exe";
        std::error_code ec;
        const auto target = std::filesystem::canonical(ipckit_path(), ec);
        while (std::filesystem::read_symlink(exe, ec) != target) {
            if (std::chrono::steady_clock::now() >= deadline) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        return wait_until_sleeping(pid_, std::max(left, std::chrono::milliseconds(1)));
    }
    /// Waits up to 10 s for the exit; returns the RunResult-like outcome.
    RunResult wait() {
        RunResult r;
        int status = 0;
        for (int i = 0; i < 1000; ++i) {
            const pid_t w = ::waitpid(pid_, &status, WNOHANG);
            if (w == pid_) {
                pid_ = -1;
                r.exited = WIFEXITED(status);
                r.exit_code = r.exited ? WEXITSTATUS(status) : -1;
                r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        r.timed_out = pid_ > 0;
        r.out = slurp(out_);
        r.err = slurp(err_);
        return r;
    }

private:
    static std::string slurp(const std::string& path) {
        std::ifstream f(path, std::ios::binary);
        std::stringstream s;
        s << f.rdbuf();
        return s.str();
    }
    std::string out_;
    std::string err_;
    pid_t pid_ = -1;
};

}  // namespace ipckit::test
