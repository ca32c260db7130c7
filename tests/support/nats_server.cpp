// SPDX-License-Identifier: MIT
#include "nats_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

namespace ipckit::test {

namespace {

using Clock = std::chrono::steady_clock;

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The number after `key` in `text` ("nats://127.0.0.1:" -> 4222), or nullopt.
std::optional<std::uint64_t> number_after(std::string_view text, std::string_view key) {
    const std::size_t at = text.find(key);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    std::uint64_t n = 0;
    std::size_t i = at + key.size();
    while (i < text.size() && text[i] == ' ') {
        ++i;
    }
    const std::size_t start = i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 18; ++i) {
        n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    }
    return i == start ? std::nullopt : std::optional<std::uint64_t>(n);
}

/// Connects to 127.0.0.1:port and reads until `done` says the text is complete, EOF, or the
/// deadline; the text read (empty when the connect failed).
template <class Done>
std::string talk(std::uint16_t port,
                 const std::string& request,
                 Clock::time_point deadline,
                 Done done) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return {};
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string text;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        (request.empty() || ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                                static_cast<ssize_t>(request.size()))) {
        char buf[4096];
        while (!done(text)) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            pollfd p{fd, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                break;
            }
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                break;
            }
            text.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return text;
}

}  // namespace

std::string NatsServer::binary() {
    if (const char* chosen = std::getenv("IPCKIT_TEST_NATS_SERVER")) {
        return ::access(chosen, X_OK) == 0 ? std::string(chosen) : std::string();
    }
    std::vector<std::string> dirs;
    if (const char* path = std::getenv("PATH")) {
        std::stringstream s(path);
        for (std::string d; std::getline(s, d, ':');) {
            dirs.push_back(d);
        }
    }
    dirs.emplace_back("/usr/sbin");
    dirs.emplace_back("/usr/bin");
    for (const auto& d : dirs) {
        const std::string p = d + "/nats-server";
        if (!d.empty() && ::access(p.c_str(), X_OK) == 0) {
            return p;
        }
    }
    return {};
}

NatsServer::NatsServer(NatsServerOptions options) : options_(std::move(options)) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "ipckit-test-nats-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::runtime_error("mkdtemp " + tmpl + " failed");
    }
    dir_ = tmpl;
    try {
        start(0);
    } catch (...) {  // no destructor runs for a constructor that throws: the dir goes here
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        throw;
    }
}

void NatsServer::restart() {
    stop();
    start(port_);
}

void NatsServer::start(std::uint16_t port) {
    const NatsServerOptions& options = options_;
    const std::string bin = binary();
    if (bin.empty()) {
        throw std::runtime_error(
            "nats-server not found ($IPCKIT_TEST_NATS_SERVER, else PATH, /usr/sbin, /usr/bin): "
            "install the Debian package nats-server, e.g. with scripts/setup.sh "
            "(scripts/packages.d/nats.txt)");
    }
    const std::string client_port = port == 0 ? std::string("-1") : std::to_string(port);
    std::vector<std::string> args = {
        bin, "-a", "127.0.0.1", "-p", client_port, "-m", "-1", "--ports_file_dir", dir_};
    if (!options.config.empty()) {
        const std::string conf = dir_ + "/server.conf";
        std::ofstream(conf) << options.config << "\n";
        args.insert(args.end(), {"-c", conf});
    }
    if (options.jetstream) {
        args.insert(args.end(), {"-js", "-sd", dir_ + "/jetstream"});
    }
    const std::string log = dir_ + "/server.log";
    // Built before fork: libnats keeps threads in this process, so the child only makes
    // async-signal-safe calls (no malloc) until exec.
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
        throw std::runtime_error("fork for nats-server failed");
    }
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    const auto deadline = Clock::now() + options.start_timeout;
    const std::string ports = dir_ + "/" + std::filesystem::path(bin).filename().string() + "_" +
                              std::to_string(pid_) + ".ports";
    auto fail = [&](const std::string& why) {
        const std::string text = read_file(log);
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        dir_.clear();
        throw std::runtime_error("nats-server " + why + "; its log:\n" + text);
    };
    // The ports file appears once both listeners are up.
    while (true) {
        const std::string p = read_file(ports);
        const auto nats = number_after(p, "nats://127.0.0.1:");
        const auto http = number_after(p, "http://127.0.0.1:");
        if (nats && http && *nats > 0 && *nats < 65536 && *http > 0 && *http < 65536) {
            port_ = static_cast<std::uint16_t>(*nats);
            http_port_ = static_cast<std::uint16_t>(*http);
            break;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            fail("exited before it listened (status " + std::to_string(status) + ")");
        }
        if (Clock::now() >= deadline) {
            fail("wrote no ports file " + ports + " within the start timeout");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // It answers: a client connection gets the INFO line (which also gives max_payload).
    const std::string info = talk(port_, "", deadline, [](const std::string& t) {
        return t.find("\r\n") != std::string::npos;
    });
    const auto payload = number_after(info, "\"max_payload\":");
    if (!info.starts_with("INFO ") || !payload) {
        fail("did not answer on port " + std::to_string(port_) + " (got '" + info + "')");
    }
    max_payload_ = static_cast<std::size_t>(*payload);
}

NatsServer::~NatsServer() {
    stop();
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
}

void NatsServer::stop() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

std::string NatsServer::url(const std::string& subject) const {
    return "nats://127.0.0.1:" + std::to_string(port_) + "/" + subject;
}

bool NatsServer::wait_for_subscription(const std::string& subject,
                                       std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    const std::string needle = "\"subject\": \"" + subject + "\"";
    const std::string request =
        "GET /subsz?subs=1&limit=100000 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    while (Clock::now() < deadline) {
        const std::string body =
            talk(http_port_, request, deadline, [](const std::string&) { return false; });
        if (body.find(needle) != std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace ipckit::test
