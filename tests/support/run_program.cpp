// SPDX-License-Identifier: MIT
#include "run_program.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <system_error>

extern char** environ;

namespace ipckit::test {

std::string RunResult::describe() const {
    std::ostringstream o;
    if (timed_out) {
        o << "timed out (killed)";
    } else if (exited) {
        o << "exited " << exit_code;
    } else {
        o << "killed by signal " << signal;
    }
    o << "\n--- stdout ---\n" << out << "\n--- stderr ---\n" << err;
    return o.str();
}

std::string build_path(const std::string& relative) {
    return std::string(IPCKIT_BINARY_DIR) + "/" + relative;
}

RunResult run_program(const std::vector<std::string>& argv, const RunOptions& options) {
    int in[2];
    int out[2];
    int err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::system_category(), "pipe2");
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));  // NOLINT: execve's signature
    }
    args.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char** e = environ; *e != nullptr; ++e) {
        env_store.emplace_back(*e);
    }
    for (const auto& e : options.env) {
        env_store.push_back(e);
    }
    std::vector<char*> envp;
    for (auto& e : env_store) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::system_error(errno, std::system_category(), "fork");
    }
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::signal(SIGPIPE, SIG_DFL);
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        ::execve(args[0], args.data(), envp.data());
        const char* msg = "run_program: exec failed: ";
        [[maybe_unused]] auto n1 = ::write(2, msg, std::strlen(msg));
        [[maybe_unused]] auto n2 = ::write(2, std::strerror(errno), std::strlen(std::strerror(errno)));
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    ::fcntl(in[1], F_SETFL, O_NONBLOCK);

    RunResult r;
    std::size_t written = 0;
    int in_fd = in[1];
    if (options.input.empty()) {
        ::close(in_fd);
        in_fd = -1;
    }
    int out_fd = out[0];
    int err_fd = err[0];
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    while (out_fd >= 0 || err_fd >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            r.timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        pollfd p[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
        const int rc = ::poll(p, 3, static_cast<int>(left.count()) + 1);
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        char buf[65536];
        for (int i = 0; i < 2; ++i) {
            int& fd = i == 0 ? out_fd : err_fd;
            if (fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                const ssize_t n = ::read(fd, buf, sizeof buf);
                if (n > 0) {
                    (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
                } else if (n == 0 || errno != EINTR) {
                    ::close(fd);
                    fd = -1;
                }
            }
        }
        if (in_fd >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
            const ssize_t n = ::write(in_fd, options.input.data() + written, options.input.size() - written);
            if (n > 0) {
                written += static_cast<std::size_t>(n);
            }
            if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == options.input.size()) {
                ::close(in_fd);
                in_fd = -1;
            }
        }
    }
    for (int fd : {in_fd, out_fd, err_fd}) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && !r.timed_out) {
        r.exited = true;
        r.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r.signal = WTERMSIG(status);
    }
    return r;
}

}  // namespace ipckit::test
