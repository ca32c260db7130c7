// SPDX-License-Identifier: MIT
// The iceoryx daemon, RouDi, run by the bench for the iceoryx row: started as a child with its
// output in the run's private directory, ready once it prints "RouDi is ready for clients",
// stopped by PID (SIGTERM, then SIGKILL) so it removes its shared memory itself.
#include "transports/registry.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <thread>

namespace ipckit::bench {
namespace {

pid_t g_roudi = -1;
std::string g_log;
std::vector<std::string> g_created;  // RouDi's files that did not exist before we started it

/// The files iceoryx 2.0's RouDi creates: its management and payload segments (the latter named
/// after the user's group), its Unix socket and lock files.
std::vector<std::string> roudi_files() {
    std::vector<std::string> out{
        "/dev/shm/iceoryx_mgmt", "/tmp/roudi", "/tmp/roudi.lock", "/tmp/iox-unique-roudi.lock"};
    if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) {
        out.push_back(std::string("/dev/shm/") + pw->pw_name);
    }
    if (const group* gr = ::getgrgid(::getegid()); gr != nullptr) {
        out.push_back(std::string("/dev/shm/") + gr->gr_name);
    }
    return out;
}

std::string read_log() {
    std::ifstream in(g_log);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string last_line(const std::string& text) {
    std::string t = text;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) {
        t.pop_back();
    }
    const auto nl = t.rfind('\n');
    return nl == std::string::npos ? t : t.substr(nl + 1);
}

}  // namespace

namespace {
/// The forked child: dies with the bench, logs to `log`, becomes iox-roudi.
[[noreturn]] void exec_roudi(pid_t parent, int log) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the bench
    if (::getppid() != parent) {
        ::_exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        ::dup2(devnull, STDIN_FILENO);
    }
    ::execl(IPCKIT_IOX_ROUDI, "iox-roudi", static_cast<char*>(nullptr));
    ::_exit(127);
}
}  // namespace

Result<void> start_roudi(const std::string& temp_dir, bool (*cancelled)()) {
    using namespace std::chrono_literals;
    g_log = temp_dir + "/roudi.log";
    const int log = ::open(g_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log < 0) {
        return Error::from_errno(errno, "open", g_log);
    }
    std::vector<std::string> existing;
    for (const auto& f : roudi_files()) {
        if (std::filesystem::exists(f)) {
            existing.push_back(f);
        }
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        exec_roudi(parent, log);
    }
    ::close(log);
    if (pid < 0) {
        return Error::from_errno(errno, "fork", "iox-roudi");
    }
    g_roudi = pid;
    ledger("process", std::to_string(pid));
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    for (;;) {
        const std::string text = read_log();
        if (text.find("RouDi is ready for clients") != std::string::npos) {
            for (const auto& f : roudi_files()) {
                if (std::find(existing.begin(), existing.end(), f) == existing.end() &&
                    std::filesystem::exists(f)) {
                    g_created.push_back(f);
                    ledger("path", f);
                }
            }
            return {};
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            g_roudi = -1;
            return Error(std::errc::no_child_process,
                         "start",
                         IPCKIT_IOX_ROUDI,
                         "RouDi exited before it was ready: " + last_line(text));
        }
        if (cancelled() || std::chrono::steady_clock::now() > give_up) {
            stop_roudi({});
            return Error(std::errc::timed_out,
                         "start",
                         IPCKIT_IOX_ROUDI,
                         "RouDi was not ready within 10 s: " + last_line(text));
        }
        std::this_thread::sleep_for(5ms);
    }
}

void stop_roudi(std::span<const int> clients) {
    using namespace std::chrono_literals;
    if (g_roudi <= 0) {
        return;
    }
    ::kill(g_roudi, SIGTERM);
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    int status = 0;
    while (::waitpid(g_roudi, &status, WNOHANG) == 0) {
        for (int pid : clients) {
            int ignored = 0;
            ::waitpid(
                pid, &ignored, WNOHANG);  // RouDi sends them SIGTERM and waits until they are gone
        }
        if (std::chrono::steady_clock::now() > give_up) {
            ::kill(g_roudi, SIGKILL);
            ::waitpid(g_roudi, &status, 0);
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    g_roudi = -1;
    // RouDi 2.0 aborts on shutdown when a registered application has already died (it asserts
    // on kill(2) failing with ESRCH), leaving its shared memory and lock files behind. Whatever it
    // created and did not remove, we remove: it was ours, nothing else existed before we started
    // it.
    for (const auto& path : g_created) {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
    g_created.clear();
}

}  // namespace ipckit::bench
