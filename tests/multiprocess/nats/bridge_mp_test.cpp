// SPDX-License-Identifier: MIT
// ipckit::Bridge and `ipckit bridge` through a real nats-server on loopback (test::NatsServer):
// chan -> NATS -> chan in order, --both without echo, wildcards, metadata, backpressure and the
// lossy policy, gaps and reconnects, and the errors (docs/design/bridge.md).
#include "../cli/background.hpp"
#include "../cli/cli_support.hpp"
#include "eventually.hpp"
#include "ipc_registry.hpp"
#include "ipckit/bridge/bridge.hpp"
#include "ipckit/bridge/bridge_status.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/endpoint/endpoint.hpp"
#include "nats_server.hpp"

#include <mqueue.h>
#include <signal.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nats/nats.h>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit::test {
namespace {

using namespace std::chrono_literals;

std::span<const std::byte> bytes(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

std::string text(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// How `ipckit bench --bridge` starts the row of `size` (right-aligned in 8 columns).
std::string fmt_row_start(std::size_t size) {
    std::string s = std::to_string(size);
    return std::string(8 - std::min<std::size_t>(8, s.size()), ' ') + s + " ";
}

/// Field `key` of an Ipckit header value ("o=...;s=...;..."), or "" when it has none.
std::string field(const std::string& value, char key) {
    const std::string want = std::string(1, key) + "=";
    for (std::size_t pos = 0; pos <= value.size();) {
        const std::size_t end = std::min(value.find(';', pos), value.size());
        if (value.compare(pos, want.size(), want) == 0) {
            return value.substr(pos + want.size(), end - pos - want.size());
        }
        pos = end + 1;
    }
    return {};
}

Uri uri(const std::string& text) {
    auto u = Uri::parse(text);
    EXPECT_TRUE(u) << text << ": " << u.error().message();
    return *u;
}

/// Bridge options that create a missing local queue.
BridgeOptions creating() {
    BridgeOptions o;
    o.create = true;
    return o;
}

/// A Bridge running on its own thread; stopped and joined on destruction.
class RunningBridge {
public:
    RunningBridge(const std::string& from, const std::string& to, BridgeOptions o = {}) {
        o.report = [this](const std::string& line) {
            const std::lock_guard lock(mu_);
            reports_.push_back(line);
        };
        auto b = Bridge::open(uri(from), uri(to), o);
        if (!b) {
            open_error_ = b.error().message();
            return;
        }
        bridge_.emplace(std::move(*b));
        thread_ = std::thread([this] {
            auto r = bridge_->run();
            const std::lock_guard lock(mu_);
            result_ = r ? std::string() : r.error().message();
            done_ = true;
        });
    }
    RunningBridge(const RunningBridge&) = delete;
    RunningBridge& operator=(const RunningBridge&) = delete;
    ~RunningBridge() { stop(); }

    [[nodiscard]] bool ok() const { return bridge_.has_value(); }
    [[nodiscard]] const std::string& open_error() const { return open_error_; }
    [[nodiscard]] BridgeStats stats() const { return bridge_->stats(); }
    /// Stops it and returns the error run() ended with ("" when it ended cleanly).
    std::string stop() {
        if (thread_.joinable()) {
            bridge_->stop();
            thread_.join();
        }
        const std::lock_guard lock(mu_);
        return result_;
    }
    [[nodiscard]] bool done() const {
        const std::lock_guard lock(mu_);
        return done_;
    }
    [[nodiscard]] std::string reports() const {
        const std::lock_guard lock(mu_);
        std::string all;
        for (const auto& r : reports_) {
            all += r + "\n";
        }
        return all;
    }

private:
    mutable std::mutex mu_;
    std::vector<std::string> reports_;
    std::string open_error_;
    std::string result_;
    bool done_ = false;
    std::optional<Bridge> bridge_;
    std::thread thread_;
};

#define START_BRIDGE(var, ...)      \
    RunningBridge var(__VA_ARGS__); \
    ASSERT_TRUE(var.ok()) << var.open_error()

/// A private channel directory, removed with its channel files.
class BridgeTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = unique_path("bridgechan");
        ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
        // The status files of the bridges a test runs (a killed one leaves its file) go to the
        // test's own directory, removed with it.
        ASSERT_EQ(::setenv("IPCKIT_RUNTIME_DIR", dir_.c_str(), 1), 0);
    }
    void TearDown() override {
        ::unsetenv("IPCKIT_RUNTIME_DIR");
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    [[nodiscard]] std::string chan(const std::string& name) const {
        return "chan:" + name + "?dir=" + dir_;
    }
    [[nodiscard]] ChannelConfig config(std::size_t lane_bytes = std::size_t{256} * 1024) const {
        ChannelConfig c;
        c.options.dir = dir_;
        c.lane_bytes = lane_bytes;
        c.max_message_size = 1024;
        return c;
    }
    [[nodiscard]] ChannelOptions options() const {
        ChannelOptions o;
        o.dir = dir_;
        return o;
    }
    /// The next message of `s` as text, or "<none>" after 5 s.
    static std::string next(Subscriber& s, std::chrono::milliseconds wait = 5s) {
        std::vector<std::byte> buf;
        auto r = s.receive_until(buf, Deadline::after(wait));
        if (!r) {
            return "<error " + r.error().message() + ">";
        }
        if (!*r) {
            return "<none>";
        }
        return text(std::span(buf.data(), (*r)->size));
    }
    std::string dir_;
};

Result<Endpoint> open_nats(const std::string& url, EndpointRole role) {
    IPCKIT_TRY_ASSIGN(const Uri u, Uri::parse(url));
    EndpointOptions o;
    o.deadline = Deadline::after(5s);
    return Endpoint::open(u, role, o);
}

/// `ipckit bridge --create nats://.../q LOCAL`; once subscribed, `remove` removes the local
/// queue and a message is published: the bridge exits 1 saying `why`.
template <typename Remove>
void expect_exit_one_when_removed(NatsServer& server,
                                  const std::string& local,
                                  const std::string& why,
                                  Remove remove) {
    Background bridge({"bridge", "--create", server.url("q"), local});
    ASSERT_TRUE(server.wait_for_subscription("q", 10s));
    ASSERT_TRUE(remove());
    auto tx = open_nats(server.url("q"), EndpointRole::Sender);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(tx->send(bytes("into a removed queue")));
    const RunResult b = bridge.wait();
    EXPECT_EQ(b.exit_code, 1) << b.describe();
    EXPECT_NE(b.err.find(why), std::string::npos) << b.err;
}

TEST_F(BridgeTest, ChanToNatsToChanThroughTwoBridgesInOrder) {
    NatsServer server;
    auto source = Publisher::create("a", config());
    ASSERT_TRUE(source) << source.error().message();
    auto sink = Subscriber::create("b", config());
    ASSERT_TRUE(sink) << sink.error().message();
    // The receiving bridge first: once open returns, the server has its subscription.
    START_BRIDGE(in, server.url("orders"), chan("b"));
    START_BRIDGE(out, chan("a"), server.url("orders"));
    constexpr int kCount = 1000;
    for (int i = 0; i < kCount; ++i) {
        ASSERT_TRUE(source->send(bytes("m" + std::to_string(i)))) << i;
    }
    for (int i = 0; i < kCount; ++i) {
        ASSERT_EQ(next(*sink), "m" + std::to_string(i));
    }
    EXPECT_EQ(next(*sink, 100ms), "<none>");
    EXPECT_EQ(out.stop(), "");
    EXPECT_EQ(in.stop(), "");
    EXPECT_EQ(out.stats().relayed, kCount);
    EXPECT_EQ(in.stats().relayed, kCount);
    for (const auto& s : {in.stats(), out.stats()}) {
        EXPECT_EQ(s.dropped, 0U);
        EXPECT_EQ(s.gaps, 0U);
        EXPECT_EQ(s.reconnects, 0U);
    }
}

TEST_F(BridgeTest, LowLatencyModeRelaysInOrderToo) {
    NatsServer server;
    auto source = Publisher::create("la", config());
    auto sink = Subscriber::create("lb", config());
    ASSERT_TRUE(source && sink);
    BridgeOptions fast;
    fast.low_latency = true;
    START_BRIDGE(in, server.url("ll"), chan("lb"), fast);
    START_BRIDGE(out, chan("la"), server.url("ll"), fast);
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(source->send(bytes(std::to_string(i))));
        ASSERT_EQ(next(*sink), std::to_string(i));  // one at a time: nothing waits for a batch
    }
    EXPECT_EQ(in.stop(), "");
    EXPECT_EQ(out.stop(), "");
}

TEST_F(BridgeTest, BothWaysDeliversEachMessageOnceAndNeverEchoes) {
    NatsServer server;
    auto xpub = Publisher::create("x", config());
    ASSERT_TRUE(xpub) << xpub.error().message();
    auto ypub = Publisher::create("y", config());
    ASSERT_TRUE(ypub) << ypub.error().message();
    auto xsub = Subscriber::open("x", options());
    auto ysub = Subscriber::open("y", options());
    ASSERT_TRUE(xsub && ysub);
    auto watcher = open_nats(server.url("bus"), EndpointRole::Receiver);
    ASSERT_TRUE(watcher) << watcher.error().message();
    BridgeOptions both;
    both.both = true;
    // Two "hosts": channel x and channel y, each bridged both ways to the subject bus.
    START_BRIDGE(bx, chan("x"), server.url("bus"), both);
    START_BRIDGE(by, server.url("bus"), chan("y"), both);
    constexpr int kEach = 50;
    for (int i = 0; i < kEach; ++i) {
        ASSERT_TRUE(xpub->send(bytes("x" + std::to_string(i))));
        ASSERT_TRUE(ypub->send(bytes("y" + std::to_string(i))));
    }
    // Each channel gets its own messages (from its publisher) and the other's (from the bridge),
    // each exactly once: per source in order, and nothing comes back a second time.
    for (auto* sub : {&*xsub, &*ysub}) {
        int next_x = 0;
        int next_y = 0;
        for (int i = 0; i < 2 * kEach; ++i) {
            const std::string m = next(*sub);
            ASSERT_TRUE(m.starts_with("x") || m.starts_with("y")) << m;
            int& expected = m[0] == 'x' ? next_x : next_y;
            ASSERT_EQ(m.substr(1), std::to_string(expected)) << "out of order or repeated";
            ++expected;
        }
        EXPECT_EQ(next(*sub, 300ms), "<none>") << "an echo came back";
    }
    // On NATS each message appears once.
    int seen = 0;
    for (;;) {
        auto m = watcher->receive(Deadline::after(300ms));
        ASSERT_TRUE(m) << m.error().message();
        if (!*m) {
            break;
        }
        ++seen;
    }
    EXPECT_EQ(seen, 2 * kEach);
    EXPECT_EQ(bx.stop(), "");
    EXPECT_EQ(by.stop(), "");
    EXPECT_EQ(bx.stats().relayed, 2U * kEach);  // kEach out, kEach in
    EXPECT_EQ(by.stats().relayed, 2U * kEach);
}

TEST_F(BridgeTest, WildcardSubjectsMapToOneLocalEndpoint) {
    NatsServer server;
    const std::string q = unique_mq_name("wild");
    START_BRIDGE(b, server.url("ticks.>"), "mq:" + q, creating());
    for (const std::string s : {"ticks.eu", "other.eu", "ticks.us.nyse"}) {
        auto tx = open_nats(server.url(s), EndpointRole::Sender);
        ASSERT_TRUE(tx) << tx.error().message();
        ASSERT_TRUE(tx->send(bytes(s)));
    }
    auto rx = Endpoint::open(uri("mq:" + q), EndpointRole::Receiver);
    ASSERT_TRUE(rx) << rx.error().message();
    for (const std::string s : {"ticks.eu", "ticks.us.nyse"}) {
        auto m = rx->receive(Deadline::after(5s));
        ASSERT_TRUE(m && *m) << "no message for " << s;
        EXPECT_EQ(text((*m)->data), s);
    }
    auto none = rx->receive(Deadline::after(200ms));
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none) << "other.eu was relayed";
    EXPECT_EQ(b.stop(), "");
    EXPECT_EQ(b.stats().relayed, 2U);
}

TEST_F(BridgeTest, MqPriorityAndSysvTypeAreRestoredOnTheFarSide) {
    NatsServer server;
    const std::string qa = unique_mq_name("pa");
    const std::string qb = unique_mq_name("pb");
    const std::string ka = std::to_string(unique_sysv_key(IpcKind::SysvMsg));
    const std::string kb = std::to_string(unique_sysv_key(IpcKind::SysvMsg));
    BridgeOptions create;
    create.create = true;
    START_BRIDGE(mq_in, server.url("mq"), "mq:" + qb, create);
    START_BRIDGE(mq_out, "mq:" + qa, server.url("mq"), create);
    START_BRIDGE(sv_in, server.url("sv"), "sysvmq:" + kb, create);
    START_BRIDGE(sv_out, "sysvmq:" + ka, server.url("sv"), create);
    auto watch = open_nats(server.url("*"), EndpointRole::Receiver);
    ASSERT_TRUE(watch) << watch.error().message();

    auto mqa = Endpoint::open(uri("mq:" + qa), EndpointRole::Sender);
    auto mqb = Endpoint::open(uri("mq:" + qb), EndpointRole::Receiver);
    auto sva = Endpoint::open(uri("sysvmq:" + ka), EndpointRole::Sender);
    auto svb = Endpoint::open(uri("sysvmq:" + kb), EndpointRole::Receiver);
    ASSERT_TRUE(mqa && mqb && sva && svb);
    for (const unsigned prio : {7U, 0U, 31U}) {
        SendOptions so;
        so.priority = prio;
        ASSERT_TRUE(mqa->send(bytes("p" + std::to_string(prio)), so));
        auto m = mqb->receive(Deadline::after(5s));
        ASSERT_TRUE(m && *m) << "priority " << prio << " never arrived";
        EXPECT_EQ(text((*m)->data), "p" + std::to_string(prio));
        EXPECT_EQ((*m)->priority, prio);
        auto w = watch->receive(Deadline::after(5s));  // recv nats:// sees it too (--json)
        ASSERT_TRUE(w && *w);
        EXPECT_EQ((*w)->priority, prio);
    }
    for (const long type : {3L, 1L, 42L}) {
        SendOptions so;
        so.type = type;
        ASSERT_TRUE(sva->send(bytes("t" + std::to_string(type)), so));
        auto m = svb->receive(Deadline::after(5s));
        ASSERT_TRUE(m && *m) << "type " << type << " never arrived";
        EXPECT_EQ(text((*m)->data), "t" + std::to_string(type));
        EXPECT_EQ((*m)->type, type);
        auto w = watch->receive(Deadline::after(5s));
        ASSERT_TRUE(w && *w);
        EXPECT_EQ((*w)->type, type);
    }
    for (auto* b : {&mq_in, &mq_out, &sv_in, &sv_out}) {
        EXPECT_EQ(b->stop(), "");
    }
    // The queues the bridges created (sysvmq: by key) are removed by the registry.
    for (const std::string& k : {ka, kb}) {
        const int id = ::msgget(static_cast<key_t>(std::stol(k)), 0);
        if (id >= 0) {
            track_sysv_id(IpcKind::SysvMsg, id);
        }
    }
}

TEST_F(BridgeTest, LocalToLocalRelaysAQueueKeepingPriorities) {
    const std::string qa = unique_mq_name("la");
    const std::string qb = unique_mq_name("lb");
    BridgeOptions create;
    create.create = true;
    START_BRIDGE(b, "mq:" + qa, "mq:" + qb, create);
    auto tx = Endpoint::open(uri("mq:" + qa), EndpointRole::Sender);
    auto rx = Endpoint::open(uri("mq:" + qb), EndpointRole::Receiver);
    ASSERT_TRUE(tx && rx);
    SendOptions so;
    so.priority = 9;
    ASSERT_TRUE(tx->send(bytes("local"), so));
    auto m = rx->receive(Deadline::after(5s));
    ASSERT_TRUE(m && *m);
    EXPECT_EQ(text((*m)->data), "local");
    EXPECT_EQ((*m)->priority, 9U);
    EXPECT_EQ(b.stop(), "");
    EXPECT_EQ(b.stats().relayed, 1U);
}

/// Raw libnats: the headers a receiver of a bridged channel message sees.
TEST_F(BridgeTest, ChannelLaneSenderPidOriginAndSequenceTravelInHeaders) {
    NatsServer server;
    auto pub = Publisher::create("h", config());
    ASSERT_TRUE(pub) << pub.error().message();
    natsConnection* nc = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(
                  &nc, ("nats://127.0.0.1:" + std::to_string(server.port())).c_str()),
              NATS_OK);
    natsSubscription* sub = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&sub, nc, "h"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(nc), NATS_OK);
    START_BRIDGE(b, chan("h"), server.url("h"));
    for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(pub->send(bytes("hi")));
    }
    std::string origin;
    for (int i = 1; i <= 2; ++i) {
        natsMsg* m = nullptr;
        ASSERT_EQ(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK);
        // One header, "Ipckit: o=ORIGIN;s=SEQ;p=PID;l=LANE" (not one header per field).
        const char* v = nullptr;
        ASSERT_EQ(natsMsgHeader_Get(m, "Ipckit", &v), NATS_OK);
        const std::string h(v);
        EXPECT_EQ(field(h, 'l'), std::to_string(pub->lane())) << h;
        EXPECT_EQ(field(h, 's'), std::to_string(i)) << h;
        EXPECT_EQ(field(h, 'o').size(), 16U) << h;
        if (i == 2) {
            EXPECT_EQ(field(h, 'o'), origin) << "one bridge, one origin";
        }
        origin = field(h, 'o');
        EXPECT_EQ(field(h, 'p'), std::to_string(::getpid())) << h;  // the bridge (this process)
        const char** keys = nullptr;
        int count = 0;
        ASSERT_EQ(natsMsgHeader_Keys(m, &keys, &count), NATS_OK);
        EXPECT_EQ(count, 1) << "the metadata travels in one header";
        std::free(static_cast<void*>(keys));
        natsMsg_Destroy(m);
    }
    EXPECT_EQ(b.stop(), "");
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
}

/// A sequence that skips numbers is counted and reported as gaps, never hidden.
TEST_F(BridgeTest, MissingSequenceNumbersAreCountedAsGaps) {
    NatsServer server;
    auto sink = Subscriber::create("g", config());
    ASSERT_TRUE(sink) << sink.error().message();
    START_BRIDGE(b, server.url("g"), chan("g"));
    natsConnection* nc = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(
                  &nc, ("nats://127.0.0.1:" + std::to_string(server.port())).c_str()),
              NATS_OK);
    auto publish = [&](const char* origin, int seq) {
        natsMsg* m = nullptr;
        ASSERT_EQ(natsMsg_Create(&m, "g", nullptr, "x", 1), NATS_OK);
        const std::string h = std::string("o=") + origin + ";s=" + std::to_string(seq);
        ASSERT_EQ(natsMsgHeader_Set(m, "Ipckit", h.c_str()), NATS_OK);
        ASSERT_EQ(natsConnection_PublishMsg(nc, m), NATS_OK);
        natsMsg_Destroy(m);
    };
    for (int seq : {1, 2, 3, 7, 8, 10}) {  // 4..6 and 9 missing
        publish("00000000000000aa", seq);
    }
    publish("00000000000000bb", 5);  // another publisher: its first message is its baseline
    publish("00000000000000bb", 6);
    ASSERT_EQ(natsConnection_Flush(nc), NATS_OK);
    for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(next(*sink), "x") << i;
    }
    // The bridge counts a message just after its local send, so the last count may trail the
    // subscriber's receive by a moment.
    EXPECT_TRUE(eventually(5s, "8 relayed", [&] { return b.stats().relayed == 8U; }))
        << b.stats().relayed;
    EXPECT_EQ(b.stats().gaps, 4U);
    EXPECT_EQ(b.stats().relayed, 8U);
    EXPECT_NE(b.reports().find("3 message(s) missing from publisher 00000000000000aa (seq 4..6)"),
              std::string::npos)
        << b.reports();
    EXPECT_EQ(b.stop(), "");
    natsConnection_Destroy(nc);
}

/// The Ipckit header is input from any publisher: malformed or unknown fields, an id that is
/// not one, numbers out of range and an overlong value are ignored (the message still goes).
TEST_F(BridgeTest, MalformedIpckitHeaderFieldsAreIgnored) {
    NatsServer server;
    const std::string q = unique_mq_name("hm");
    START_BRIDGE(b, server.url("hm"), "mq:" + q, creating());
    auto rx = Endpoint::open(uri("mq:" + q), EndpointRole::Receiver);
    ASSERT_TRUE(rx) << rx.error().message();
    natsConnection* nc = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(
                  &nc, ("nats://127.0.0.1:" + std::to_string(server.port())).c_str()),
              NATS_OK);
    const std::string aa = "o=00000000000000aa;";
    struct Case {
        std::string header;
        unsigned priority;  // what the mq receiver sees
    };
    const std::vector<Case> cases{
        {aa + "s=1;P=5", 5},
        {aa + "s=2;P=99999;t=x;zz=1;;=;q;P", 0},           // priority out of range, junk fields
        {aa + "s=junk;P=-1", 0},                           // no sequence: no gap counted
        {aa + "s=100;P=3;x=" + std::string(300, 'y'), 0},  // overlong: all of it ignored
        {"o=../etc;s=90;P=6", 6},                          // not an id: its sequence is ignored
        {aa + "s=3;P=4", 4},                               // follows on from 2: no gap
    };
    for (const Case& c : cases) {
        natsMsg* m = nullptr;
        ASSERT_EQ(natsMsg_Create(&m, "hm", nullptr, "x", 1), NATS_OK);
        ASSERT_EQ(natsMsgHeader_Set(m, "Ipckit", c.header.c_str()), NATS_OK);
        ASSERT_EQ(natsConnection_PublishMsg(nc, m), NATS_OK);
        natsMsg_Destroy(m);
        ASSERT_EQ(natsConnection_Flush(nc), NATS_OK);
        auto r = rx->receive(Deadline::after(5s));
        ASSERT_TRUE(r && *r) << c.header.substr(0, 60) << ": never arrived";
        EXPECT_EQ((*r)->priority, c.priority) << c.header.substr(0, 60);
    }
    // The counter follows the local send that the receive above already saw.
    EXPECT_TRUE(eventually(5s, "all counted", [&] { return b.stats().relayed == cases.size(); }))
        << b.stats().relayed;
    EXPECT_EQ(b.stats().gaps, 0U) << b.reports();
    EXPECT_EQ(b.stop(), "");
    natsConnection_Destroy(nc);
}

/// The local side full: a block-policy bridge waits, drops nothing, and delivers all once room
/// is made.
TEST_F(BridgeTest, AFullLocalSideBlocksTheBridgeAndNothingIsDropped) {
    NatsServer server;
    auto slow = Subscriber::create("full", config(4096));  // room for a few 1 KiB messages
    ASSERT_TRUE(slow) << slow.error().message();
    START_BRIDGE(b, server.url("full"), chan("full"));
    auto tx = open_nats(server.url("full"), EndpointRole::Sender);
    ASSERT_TRUE(tx);
    constexpr int kCount = 40;
    for (int i = 0; i < kCount; ++i) {
        ASSERT_TRUE(tx->send(bytes(std::to_string(i) + std::string(900, '.'))));
    }
    ASSERT_TRUE(
        eventually(5s, "the bridge relayed what fits", [&] { return b.stats().relayed > 0; }));
    std::this_thread::sleep_for(300ms);  // it stays blocked, and drops nothing meanwhile
    EXPECT_LT(b.stats().relayed, static_cast<std::uint64_t>(kCount));
    EXPECT_EQ(b.stats().dropped, 0U);
    for (int i = 0; i < kCount; ++i) {
        ASSERT_EQ(next(*slow).substr(0, std::to_string(i).size() + 1), std::to_string(i) + ".");
    }
    EXPECT_EQ(b.stop(), "");
    EXPECT_EQ(b.stats().relayed, static_cast<std::uint64_t>(kCount));
    EXPECT_EQ(b.stats().dropped, 0U);
}

TEST_F(BridgeTest, TheLossyPolicyCountsAndReportsEveryDrop) {
    NatsServer server;
    auto slow = Subscriber::create("lossy", config(4096));
    ASSERT_TRUE(slow) << slow.error().message();
    BridgeOptions lossy;
    lossy.on_full = BridgeFullPolicy::Drop;
    START_BRIDGE(b, server.url("lossy"), chan("lossy"), lossy);
    auto tx = open_nats(server.url("lossy"), EndpointRole::Sender);
    ASSERT_TRUE(tx);
    constexpr std::uint64_t kCount = 40;
    for (std::uint64_t i = 0; i < kCount; ++i) {
        ASSERT_TRUE(tx->send(bytes(std::string(900, '.'))));
    }
    ASSERT_TRUE(eventually(5s, "every message relayed or dropped", [&] {
        return b.stats().relayed + b.stats().dropped == kCount;
    }));
    EXPECT_GT(b.stats().dropped, 0U);
    EXPECT_NE(b.reports().find("dropped: the receiving side was full (lossy policy"),
              std::string::npos)
        << b.reports();
    std::uint64_t got = 0;
    while (next(*slow, 200ms) != "<none>") {
        ++got;
    }
    EXPECT_EQ(got, b.stats().relayed);
    EXPECT_EQ(b.stop(), "");
}

TEST_F(BridgeTest, ServerRestartReconnectsAndAccountsForEveryMessage) {
    NatsServer server;
    auto source = Publisher::create("ra", config());
    auto sink = Subscriber::create("rb", config());
    ASSERT_TRUE(source && sink);
    BridgeOptions retry;
    retry.max_retry_wait = 200ms;
    START_BRIDGE(in, server.url("r"), chan("rb"), retry);
    START_BRIDGE(out, chan("ra"), server.url("r"), retry);
    ASSERT_TRUE(source->send(bytes("0")));
    ASSERT_EQ(next(*sink), "0");
    server.restart();
    ASSERT_TRUE(eventually(10s, "both bridges reconnected", [&] {
        return in.stats().reconnects == 1 && out.stats().reconnects == 1;
    }));
    // Core NATS may lose what was in flight; each loss shows in the sequence.
    constexpr int kCount = 100;
    for (int i = 1; i <= kCount; ++i) {
        ASSERT_TRUE(source->send(bytes(std::to_string(i))));
    }
    int last = 0;
    int received = 0;
    ASSERT_TRUE(eventually(10s,
                           "every message delivered or counted as a gap",
                           [&] {
                               for (;;) {
                                   const std::string m = next(*sink, 10ms);
                                   if (m == "<none>") {
                                       break;
                                   }
                                   const int v = std::stoi(m);
                                   EXPECT_GT(v, last) << "out of order";
                                   last = v;
                                   ++received;
                               }
                               return last == kCount &&
                                      received + static_cast<int>(in.stats().gaps) == kCount;
                           }))
        << "received " << received << ", gaps " << in.stats().gaps;
    EXPECT_NE(in.reports().find("reconnected"), std::string::npos) << in.reports();
    EXPECT_EQ(in.stop(), "");
    EXPECT_EQ(out.stop(), "");
}

// ---- the CLI

TEST_F(BridgeTest, CliRelaysAChannelToNatsAndPrintsStatsOnSigterm) {
    NatsServer server;
    Background rx({"recv", server.url("cli"), "--count", "3", "--timeout", "10s"});
    ASSERT_TRUE(server.wait_for_subscription("cli", 10s));
    auto pub = Publisher::create("cli", config());
    ASSERT_TRUE(pub) << pub.error().message();
    Background bridge({"bridge", "--stats", chan("cli"), server.url("cli")});
    ASSERT_TRUE(bridge.wait_blocked());  // subscribed to the channel, waiting
    for (const std::string m : {"one", "two", "three"}) {
        ASSERT_TRUE(pub->send(bytes(m)));
    }
    const RunResult r = rx.wait();
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, "one\ntwo\nthree\n");
    ASSERT_EQ(::kill(bridge.pid(), SIGTERM), 0);
    const RunResult b = bridge.wait();
    EXPECT_EQ(b.exit_code, 0) << b.describe();
    EXPECT_NE(b.err.find("relayed 3, dropped 0, gaps 0, reconnects 0"), std::string::npos) << b.err;
}

TEST_F(BridgeTest, CliBadPairsExitTwoBeforeContactingAnything) {
    const std::string nats = "nats://127.0.0.1:1/s";
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"bridge", chan("c"), "nats://127.0.0.1:1/s.>"}, "only for the FROM side"},
        {{"bridge", nats, "nats://127.0.0.1:1/t"}, "both sides are NATS"},
        {{"bridge", "--both", "mq:/ipckit-test-none", nats}, "--both needs a chan: endpoint"},
        {{"bridge", "--both", "nats://127.0.0.1:1/s.*", chan("c")}, "must be concrete"},
        {{"bridge", chan("c"), "nats://127.0.0.1:1/a..b"}, "empty token"},
        {{"bridge", chan("c"), "nats://127.0.0.1:4222"}, "missing '/SUBJECT'"},
        {{"bridge", "--max-retries", "-2", chan("c"), nats}, "--max-retries -2"},
    };
    for (const auto& [args, why] : cases) {
        const RunResult r = ipckit(args);
        EXPECT_EQ(r.exit_code, 2) << args[args.size() - 1] << ": " << r.describe();
        EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    }
}

TEST_F(BridgeTest, CliServerNotRunningRetriesThenExitsOne) {
    auto pub = Publisher::create("nr", config());
    ASSERT_TRUE(pub);
    NatsServer server;
    const std::string url = server.url("nr");
    server.stop();  // a port where nothing listens now
    const auto start = std::chrono::steady_clock::now();
    const RunResult r = ipckit({"bridge", "--max-retries", "3", chan("nr"), url});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.err.find("no server answered"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("gave up after 3 retries"), std::string::npos) << r.err;
    // Backoff 100 + 200 (+ 400) ms between attempts: it did wait, and not for long.
    EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
}

TEST_F(BridgeTest, CliMaxRetriesZeroTriesOnceAndExitsOne) {
    auto pub = Publisher::create("nr0", config());
    ASSERT_TRUE(pub);
    NatsServer server;
    const std::string url = server.url("nr0");
    server.stop();
    RunOptions quick;
    quick.timeout = 5s;  // it must not retry for ever
    const RunResult r = ipckit({"bridge", "--max-retries", "0", chan("nr0"), url}, quick);
    EXPECT_FALSE(r.timed_out) << r.describe();
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.err.find("gave up after 0 retries"), std::string::npos) << r.err;
}

TEST_F(BridgeTest, CliGivesUpAfterMaxRetriesWhenTheServerGoesAway) {
    NatsServer server;
    auto sink = Subscriber::create("gone", config());
    ASSERT_TRUE(sink);
    Background bridge({"bridge", "--max-retries", "2", server.url("gone"), chan("gone")});
    ASSERT_TRUE(server.wait_for_subscription("gone", 10s));
    server.stop();
    const RunResult b = bridge.wait();
    EXPECT_EQ(b.exit_code, 1) << b.describe();
    EXPECT_NE(b.err.find("disconnected; reconnecting with backoff"), std::string::npos) << b.err;
    EXPECT_NE(b.err.find("2 retries to reconnect failed"), std::string::npos) << b.err;
}

TEST_F(BridgeTest, CliTheLocalChannelRemovedWhileBridgingExitsOne) {
    NatsServer server;
    auto pub = Publisher::create("rm", config());
    ASSERT_TRUE(pub);
    Background bridge({"bridge", chan("rm"), server.url("rm")});
    ASSERT_TRUE(bridge.wait_blocked());
    ASSERT_EQ(::unlink((dir_ + "/rm.chan").c_str()), 0);
    const RunResult b = bridge.wait();
    EXPECT_EQ(b.exit_code, 1) << b.describe();
    EXPECT_NE(b.err.find("the channel file was removed"), std::string::npos) << b.err;
}

TEST_F(BridgeTest, CliTheLocalQueueRemovedWhileBridgingExitsOne) {
    NatsServer server;
    const key_t key = unique_sysv_key(IpcKind::SysvMsg);
    expect_exit_one_when_removed(server, "sysvmq:" + std::to_string(key), "msgsnd", [key] {
        const int id = ::msgget(key, 0);
        return id >= 0 && ::msgctl(id, IPC_RMID, nullptr) == 0;
    });
}

// An unlinked POSIX queue keeps working through the descriptor the bridge holds: without a
// check the bridge would relay into (or wait on) a queue nobody can open any more.
TEST_F(BridgeTest, CliThePosixQueueRemovedUnderTheReceivingBridgeExitsOne) {
    NatsServer server;
    const std::string q = unique_mq_name("rmin");
    expect_exit_one_when_removed(
        server, "mq:" + q, "the queue was removed", [&q] { return ::mq_unlink(q.c_str()) == 0; });
}

TEST_F(BridgeTest, CliThePosixQueueRemovedUnderTheSendingBridgeExitsOne) {
    NatsServer server;
    const std::string q = unique_mq_name("rmout");
    EndpointOptions create;
    create.create = true;
    auto tx = Endpoint::open(uri("mq:" + q), EndpointRole::Sender, create);
    ASSERT_TRUE(tx) << tx.error().message();
    auto rx = open_nats(server.url("rmq"), EndpointRole::Receiver);
    ASSERT_TRUE(rx);
    Background bridge({"bridge", "mq:" + q, server.url("rmq")});
    ASSERT_TRUE(tx->send(bytes("first")));
    auto m = rx->receive(Deadline::after(10s));  // the bridge is relaying
    ASSERT_TRUE(m && *m) << bridge.wait().describe();
    ASSERT_EQ(::mq_unlink(q.c_str()), 0);
    const RunResult b = bridge.wait();  // idle: noticed within a wait slice
    EXPECT_EQ(b.exit_code, 1) << b.describe();
    EXPECT_NE(b.err.find("the queue was removed"), std::string::npos) << b.err;
}

// `ipckit bench --bridge`: starts its own nats-server, measures raw libnats and the bridge in
// the same run and prints the ratios (about 1 s with --quick and one size).
TEST_F(BridgeTest, CliBenchBridgePrintsRowsAndWritesJson) {
    const std::string binary = NatsServer::binary();
    ASSERT_FALSE(binary.empty()) << "nats-server is missing (Debian package nats-server)";
    const std::string json = dir_ + "/bridge.json";
    RunOptions o;
    o.timeout = 60s;
    o.env = {"IPCKIT_NATS_SERVER=" + binary};
    const RunResult r =
        ipckit({"bench", "--bridge", "--quick", "--sizes", "64,1K", "--json", json}, o);
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_NE(r.out.find("chan -> bridge -> NATS -> bridge -> chan vs raw libnats"),
              std::string::npos)
        << r.out;
    std::ifstream f(json);
    const nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    EXPECT_EQ(j["schema"], "ipckit.bench.bridge/1");
    ASSERT_TRUE(j.contains("rows")) << j.dump();
    ASSERT_EQ(j["rows"].size(), 2U) << j.dump();
    const std::size_t sizes[] = {64, 1024};
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& row = j["rows"][i];
        EXPECT_EQ(row["size"], sizes[i]);
        for (const char* k : {"raw_msgs_per_s",
                              "bridge_msgs_per_s",
                              "raw_p50_us",
                              "raw_p99_us",
                              "bridge_p50_us",
                              "bridge_p99_us"}) {
            EXPECT_GT(row[k].get<double>(), 0) << k << " " << row.dump();
        }
        EXPECT_NEAR(row["throughput_ratio"].get<double>(),
                    row["bridge_msgs_per_s"].get<double>() / row["raw_msgs_per_s"].get<double>(),
                    1e-9);
        EXPECT_NEAR(row["latency_ratio_p50"].get<double>(),
                    row["bridge_p50_us"].get<double>() / row["raw_p50_us"].get<double>(),
                    1e-9);
        // The printed row carries the same figures.
        EXPECT_NE(r.out.find(fmt_row_start(sizes[i])), std::string::npos) << r.out;
    }
}

TEST_F(BridgeTest, CliBenchBridgeWithoutNatsServerSaysSoAndSucceeds) {
    const std::string json = dir_ + "/skipped.json";
    RunOptions o;
    o.env = {"IPCKIT_NATS_SERVER=" + dir_ + "/no-such-nats-server"};
    const RunResult r = ipckit({"bench", "--bridge", "--quick", "--json", json}, o);
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_NE(r.out.find("skipped: nats-server not found"), std::string::npos) << r.out;
    std::ifstream f(json);
    const nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    EXPECT_NE(j.value("skipped", std::string()).find("nats-server not found"), std::string::npos)
        << j.dump();
    EXPECT_FALSE(j.contains("rows"));
}

/// Publishes `count` messages (`prefix` + i) on `pub`, then receives each from `rx` (5 s each).
::testing::AssertionResult send_and_receive(Publisher& pub,
                                            Endpoint& rx,
                                            int count,
                                            const std::string& prefix) {
    for (int i = 0; i < count; ++i) {
        if (!pub.send(bytes(prefix + std::to_string(i)))) {
            return ::testing::AssertionFailure() << "send " << i;
        }
    }
    for (int i = 0; i < count; ++i) {
        auto m = rx.receive(Deadline::after(5s));
        if (!m || !*m) {
            return ::testing::AssertionFailure() << "message " << i << " did not arrive";
        }
    }
    return ::testing::AssertionSuccess();
}

/// `ipckit bridges --dir DIR --json`: the bridges array (fails the test on bad output).
nlohmann::json bridges_json(const std::string& dir, bool remove_dead = false) {
    std::vector<std::string> args{"bridges", "--dir", dir, "--json"};
    if (remove_dead) {
        args.emplace_back("--remove-dead");
    }
    const RunResult r = ipckit(args);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    if (j.is_discarded() || !j.contains("bridges")) {
        return nlohmann::json::array();
    }
    EXPECT_EQ(j["schema"], "ipckit.bridges/1");
    return j["bridges"];
}

// A running bridge's counters are visible from another process (its status file); SIGTERM
// removes the file.
TEST_F(BridgeTest, CliBridgesShowsARunningBridgesCountersFromAnotherProcess) {
    NatsServer server;
    const std::string status = dir_ + "/status";
    auto pub = Publisher::create("st", config());
    ASSERT_TRUE(pub);
    auto rx = open_nats(server.url("st"), EndpointRole::Receiver);
    ASSERT_TRUE(rx);
    Background bridge({"bridge", "--status-dir", status, chan("st"), server.url("st")});
    ASSERT_TRUE(
        eventually(10s, "the status file", [&] { return bridges_json(status).size() == 1; }));
    constexpr int kCount = 10;
    ASSERT_TRUE(send_and_receive(*pub, *rx, kCount, "s"));
    nlohmann::json b;
    ASSERT_TRUE(eventually(5s, "relayed counted", [&] {
        const auto all = bridges_json(status);
        b = all.empty() ? nlohmann::json() : all[0];
        return !all.empty() && b["forward"]["relayed"] == kCount;
    })) << b.dump();
    EXPECT_EQ(b["pid"], bridge.pid());
    EXPECT_EQ(b["state"], "running");
    EXPECT_EQ(b["from"], chan("st"));
    EXPECT_EQ(b["to"], server.url("st"));
    EXPECT_EQ(b["forward"]["dropped"], 0);
    EXPECT_EQ(b["forward"]["gaps"], 0);
    EXPECT_EQ(b["back"]["relayed"], 0);
    EXPECT_EQ(b["reconnects"], 0);
    // A live bridge's file is not removable.
    EXPECT_EQ(bridges_json(status, true).size(), 1U);
    ASSERT_EQ(::kill(bridge.pid(), SIGTERM), 0);
    const RunResult r = bridge.wait();
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_TRUE(bridges_json(status).empty());
}

TEST_F(BridgeTest, CliBridgesShowsAKilledBridgeAsDeadAndRemovesIt) {
    NatsServer server;
    const std::string status = dir_ + "/status";
    auto sink = Subscriber::create("dead", config());
    ASSERT_TRUE(sink);
    Background bridge({"bridge", "--status-dir", status, server.url("dead"), chan("dead")});
    ASSERT_TRUE(server.wait_for_subscription("dead", 10s));
    ASSERT_TRUE(
        eventually(10s, "the status file", [&] { return bridges_json(status).size() == 1; }));
    ASSERT_EQ(::kill(bridge.pid(), SIGKILL), 0);
    (void)bridge.wait();
    const auto left = bridges_json(status);
    ASSERT_EQ(left.size(), 1U);
    EXPECT_EQ(left[0]["state"], "dead");
    const RunResult text = ipckit({"bridges", "--dir", status});
    EXPECT_NE(text.out.find("dead (ipckit bridges --remove-dead)"), std::string::npos) << text.out;
    const auto removed = bridges_json(status, true);
    ASSERT_EQ(removed.size(), 1U);
    EXPECT_EQ(removed[0]["removed"], true);
    EXPECT_TRUE(bridges_json(status).empty());
}

/// `ipckit ls --type bridge --json`: the objects array (fails the test on bad output).
nlohmann::json ls_bridges_json() {
    const RunResult r = ipckit({"ls", "--type", "bridge", "--json"});
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    if (j.is_discarded() || !j.contains("objects")) {
        return nlohmann::json::array();
    }
    return j["objects"];
}

/// `ipckit stat bridge:NAME --json` (null when it fails).
nlohmann::json stat_bridge_json(const std::string& name) {
    const RunResult r = ipckit({"stat", "bridge:" + name, "--json"});
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    return j.is_discarded() ? nlohmann::json() : j;
}

// The inventory lists bridges (issue 19: drops are reported in `stat`): a running bridge is a
// row of `ipckit ls` and `ipckit stat bridge:PID` shows its counters, from another process; after
// SIGKILL it is dead (stale, removed by rm --stale). Forged status files are skipped.
TEST_F(BridgeTest, CliLsAndStatShowARunningBridgeAndAKilledOneAsDead) {
    NatsServer server;
    const std::string status = dir_ + "/bridges";  // bridge_status_dir() under IPCKIT_RUNTIME_DIR
    auto pub = Publisher::create("lsb", config());
    ASSERT_TRUE(pub);
    auto rx = open_nats(server.url("lsb"), EndpointRole::Receiver);
    ASSERT_TRUE(rx);
    Background bridge({"bridge", chan("lsb"), server.url("lsb")});
    Background other({"bridge", "--create", chan("lsb2"), server.url("lsb2")});
    const std::string name = std::to_string(bridge.pid());
    const std::string other_name = std::to_string(other.pid());
    ASSERT_TRUE(
        eventually(10s, "the bridges in ls", [&] { return ls_bridges_json().size() == 2; }));
    // Not status files: skipped, whatever they hold.
    std::ofstream(status + "/bridge-1-0.stat") << "short";
    std::ofstream(status + "/bridge-2-0.stat") << std::string(4096, '\xff');
    std::ofstream(status + "/bridge-3-0.stat")
        << std::string(std::filesystem::file_size(status + "/bridge-" + name + "-0.stat"), 'x');
    constexpr int kCount = 10;
    ASSERT_TRUE(send_and_receive(*pub, *rx, kCount, "l"));
    nlohmann::json o;
    ASSERT_TRUE(eventually(5s, "relayed counted in stat", [&] {
        o = stat_bridge_json(name);
        return o.contains("bridge") && o["bridge"]["forward"]["relayed"] == kCount;
    })) << o.dump();
    EXPECT_EQ(o["type"], "bridge");
    EXPECT_EQ(o["name"], name);
    EXPECT_EQ(o["uri"], "bridge:" + name);
    EXPECT_EQ(o["state"], "in-use");
    EXPECT_EQ(o["users"], nlohmann::json::array({bridge.pid()}));
    EXPECT_EQ(o["bridge"]["pid"], bridge.pid());
    EXPECT_EQ(o["bridge"]["state"], "running");
    EXPECT_EQ(o["bridge"]["from"], chan("lsb"));
    EXPECT_EQ(o["bridge"]["to"], server.url("lsb"));
    EXPECT_EQ(o["bridge"]["forward"]["dropped"], 0);
    EXPECT_EQ(o["bridge"]["forward"]["gaps"], 0);
    EXPECT_EQ(o["bridge"]["back"]["relayed"], 0);
    EXPECT_EQ(o["bridge"]["reconnects"], 0);
    const auto listed = ls_bridges_json();
    ASSERT_EQ(listed.size(), 2U) << listed.dump();
    const auto& mine = listed[0]["name"] == name ? listed[0] : listed[1];
    EXPECT_EQ(mine["bridge"]["forward"]["relayed"], kCount);
    const RunResult table = ipckit({"ls", "--type", "bridge"});
    ASSERT_EQ(table.exit_code, 0) << table.describe();
    EXPECT_NE(
        table.out.find(chan("lsb") + " -> " + server.url("lsb") + " relayed=10 dropped=0 gaps=0"),
        std::string::npos)
        << table.out;
    EXPECT_NE(table.out.find("in-use"), std::string::npos) << table.out;
    const RunResult text = ipckit({"stat", "bridge:" + name});
    ASSERT_EQ(text.exit_code, 0) << text.describe();
    EXPECT_NE(text.out.find("pid " + name + " running"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("relayed=10 dropped=0 gaps=0 (FROM -> TO)"), std::string::npos)
        << text.out;
    // A name that is no pid is bad input; a pid without a bridge is "no such object".
    EXPECT_EQ(ipckit({"stat", "bridge:x"}).exit_code, 2);
    EXPECT_EQ(ipckit({"stat", "bridge:1"}).exit_code, 1);
    EXPECT_EQ(ipckit({"rm", "bridge:x"}).exit_code, 2);
    EXPECT_EQ(ipckit({"rm", "bridge:1"}).exit_code, 1);
    // A running bridge's file is never removed, not even with --force.
    const RunResult live = ipckit({"rm", "bridge:" + name});
    EXPECT_EQ(live.exit_code, 4) << live.describe();
    EXPECT_NE(live.err.find("running"), std::string::npos) << live.err;
    EXPECT_NE(ipckit({"rm", "--force", "bridge:" + name}).exit_code, 0);
    EXPECT_EQ(ls_bridges_json().size(), 2U);

    ASSERT_EQ(::kill(other.pid(), SIGKILL), 0);
    (void)other.wait();
    const RunResult named = ipckit({"rm", "bridge:" + other_name});
    EXPECT_EQ(named.exit_code, 0) << named.describe();
    EXPECT_EQ(ls_bridges_json().size(), 1U);
    ASSERT_EQ(::kill(bridge.pid(), SIGKILL), 0);
    (void)bridge.wait();
    o = stat_bridge_json(name);
    EXPECT_EQ(o["bridge"]["state"], "dead") << o.dump();
    EXPECT_EQ(o["state"], "stale") << o.dump();
    EXPECT_EQ(o["users"], nlohmann::json::array()) << o.dump();
    EXPECT_EQ(o["bridge"]["forward"]["relayed"], kCount) << o.dump();
    const RunResult dead = ipckit({"stat", "bridge:" + name});
    EXPECT_NE(dead.out.find("pid " + name + " dead"), std::string::npos) << dead.out;
    const RunResult rm = ipckit({"rm", "--stale", "--type", "bridge"});
    EXPECT_EQ(rm.exit_code, 0) << rm.describe();
    EXPECT_TRUE(ls_bridges_json().empty());
    EXPECT_TRUE(std::filesystem::exists(status + "/bridge-1-0.stat"));  // not ours to judge
}

// Whatever else lies in the status directory is not trusted: a file of another size, or of the
// right size without the magic, is skipped; a missing directory is an empty list.
TEST_F(BridgeTest, CliBridgesSkipsFilesThatAreNotStatusFiles) {
    const std::string status = dir_ + "/status";
    EXPECT_TRUE(bridges_json(status).empty());
    ASSERT_EQ(::mkdir(status.c_str(), 0700), 0);
    std::ofstream(status + "/bridge-1-0.stat") << "short";
    std::ofstream(status + "/bridge-2-0.stat") << std::string(4096, '\xff');
    {
        // The size of a real record with garbage in it: made by a real bridge first.
        BridgeOptions o;
        o.status_dir = status;
        const std::string qa = unique_mq_name("stqa");
        const std::string qb = unique_mq_name("stqb");
        o.create = true;
        auto b = Bridge::open(uri("mq:" + qa), uri("mq:" + qb), o);
        ASSERT_TRUE(b) << b.error().message();
        const auto real = list_bridges(status);
        ASSERT_TRUE(real);
        ASSERT_EQ(real->size(), 1U);
        const auto size = std::filesystem::file_size((*real)[0].path);
        std::ofstream(status + "/bridge-3-0.stat") << std::string(size, 'x');
        ASSERT_EQ(list_bridges(status)->size(), 1U);  // only the real one
    }
    EXPECT_TRUE(bridges_json(status).empty());  // the destroyed Bridge removed its file
}

TEST_F(BridgeTest, CliAMessageOverMaxPayloadEndsTheBridgeNamingBothSizes) {
    NatsServerOptions small;
    small.config = "max_payload: 1024";
    NatsServer server(small);
    auto pub = Publisher::create("big", config());
    ASSERT_TRUE(pub);
    Background bridge({"bridge", chan("big"), server.url("big")});
    ASSERT_TRUE(bridge.wait_blocked());
    ASSERT_TRUE(pub->send(bytes(std::string(1000, 'x'))));
    const RunResult b = bridge.wait();
    EXPECT_EQ(b.exit_code, 1) << b.describe();
    EXPECT_NE(b.err.find("message is 1000 bytes (+"), std::string::npos) << b.err;
    EXPECT_NE(b.err.find("max_payload is 1024"), std::string::npos) << b.err;
}

}  // namespace
}  // namespace ipckit::test

// ---- JetStream (each server with its own store directory)

namespace ipckit::test {
namespace {

/// Creates stream `name` storing `subject` on the server at `port` (raw libnats).
void add_stream(std::uint16_t port, const char* name, const char* subject) {
    natsConnection* nc = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(&nc, ("nats://127.0.0.1:" + std::to_string(port)).c_str()),
              NATS_OK);
    jsCtx* js = nullptr;
    ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    const char* subjects[] = {subject};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    jsStreamInfo* si = nullptr;
    jsErrCode jerr{};
    ASSERT_EQ(js_AddStream(&si, js, &cfg, nullptr, &jerr), NATS_OK) << jerr;
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

/// Publishes "0".."count-1" on `subject` through JetStream, each acked.
void js_publish(std::uint16_t port, const char* subject, int count) {
    natsConnection* nc = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(&nc, ("nats://127.0.0.1:" + std::to_string(port)).c_str()),
              NATS_OK);
    jsCtx* js = nullptr;
    ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
    for (int i = 0; i < count; ++i) {
        const std::string m = std::to_string(i);
        ASSERT_EQ(js_PublishAsync(js, subject, m.data(), static_cast<int>(m.size()), nullptr),
                  NATS_OK)
            << i;
    }
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = 10000;
    ASSERT_EQ(js_PublishAsyncComplete(js, &o), NATS_OK);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

/// Creates the durable pull consumer `durable` on `stream` with a short ack wait.
void add_consumer(std::uint16_t port,
                  const char* stream,
                  const char* durable,
                  std::chrono::milliseconds ack_wait) {
    natsConnection* nc = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(&nc, ("nats://127.0.0.1:" + std::to_string(port)).c_str()),
              NATS_OK);
    jsCtx* js = nullptr;
    ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(ack_wait).count();
    jsConsumerInfo* ci = nullptr;
    jsErrCode jerr{};
    ASSERT_EQ(js_AddConsumer(&ci, js, stream, &cc, nullptr, &jerr), NATS_OK) << jerr;
    jsConsumerInfo_Destroy(ci);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

NatsServerOptions jetstream() {
    NatsServerOptions o;
    o.jetstream = true;
    return o;
}

TEST_F(BridgeTest, JetStreamAMissingStreamIsAClearError) {
    NatsServer server(jetstream());
    auto pub = Publisher::create("nostream", config());
    ASSERT_TRUE(pub);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"bridge", "--jetstream", "NOPE", chan("nostream"), server.url("js.a")},
             {"bridge", "--jetstream", "NOPE", server.url("js.a"), chan("nostream")}}) {
        const RunResult r = ipckit(args);
        EXPECT_EQ(r.exit_code, 1) << r.describe();
        EXPECT_NE(r.err.find("the stream 'NOPE' does not exist"), std::string::npos) << r.err;
    }
}

TEST_F(BridgeTest, JetStreamPublishesAckedWithAMessageIdAndTheConsumerDeliversInOrder) {
    NatsServer server(jetstream());
    add_stream(server.port(), "S", "js.>");
    auto source = Publisher::create("jsa", config());
    auto sink = Subscriber::create("jsb", config());
    ASSERT_TRUE(source && sink);
    natsConnection* nc = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(
                  &nc, ("nats://127.0.0.1:" + std::to_string(server.port())).c_str()),
              NATS_OK);
    natsSubscription* raw = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&raw, nc, "js.a"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(nc), NATS_OK);
    BridgeOptions js;
    js.jetstream = "S";
    START_BRIDGE(out, chan("jsa"), server.url("js.a"), js);
    constexpr int kCount = 300;
    for (int i = 0; i < kCount; ++i) {
        ASSERT_TRUE(source->send(bytes(std::to_string(i))));
    }
    // The stream has them (a consumer started afterwards reads them all), each with its id.
    natsMsg* first = nullptr;
    ASSERT_EQ(natsSubscription_NextMsg(&first, raw, 5000), NATS_OK);
    const char* id = nullptr;
    const char* meta = nullptr;
    ASSERT_EQ(natsMsgHeader_Get(first, "Nats-Msg-Id", &id), NATS_OK);
    ASSERT_EQ(natsMsgHeader_Get(first, "Ipckit", &meta), NATS_OK);
    EXPECT_EQ(std::string(id), field(meta, 'o') + "-1");
    natsMsg_Destroy(first);
    natsSubscription_Destroy(raw);
    natsConnection_Destroy(nc);
    ASSERT_TRUE(eventually(10s, "all relayed", [&] { return out.stats().relayed == kCount; }));
    START_BRIDGE(in, server.url("js.a"), chan("jsb"), js);
    for (int i = 0; i < kCount; ++i) {
        ASSERT_EQ(next(*sink), std::to_string(i));
    }
    EXPECT_EQ(next(*sink, 200ms), "<none>");
    EXPECT_EQ(in.stop(), "");
    EXPECT_EQ(out.stop(), "");
}

TEST_F(BridgeTest, JetStreamSigkillOfTheReceivingBridgeThenRestartLosesAndRepeatsNothing) {
    NatsServer server(jetstream());
    add_stream(server.port(), "K", "k.>");
    constexpr int kCount = 3000;
    js_publish(server.port(), "k.a", kCount);
    add_consumer(server.port(), "K", "d1", 500ms);        // redeliveries come quickly
    auto sink = Subscriber::create("jsk", config(4096));  // the bridge blocks on the reader
    ASSERT_TRUE(sink);
    const std::string state = unique_path("bridge-state");
    const std::vector<std::string> args = {"bridge",
                                           "--jetstream",
                                           "K",
                                           "--durable",
                                           "d1",
                                           "--state",
                                           state,
                                           server.url("k.a"),
                                           chan("jsk")};
    std::vector<int> seen(kCount, 0);
    std::map<std::uint32_t, int> last_in_lane;  // order is kept per publisher lane
    int received = 0;
    auto drain = [&](int until) {
        std::vector<std::byte> buf;
        while (received < until) {
            auto r = sink->receive_until(buf, Deadline::after(10s));
            ASSERT_TRUE(r) << r.error().message();
            ASSERT_TRUE(*r) << "stalled after " << received << " messages";
            const int v = std::stoi(text(std::span(buf.data(), (*r)->size)));
            ASSERT_TRUE(v >= 0 && v < kCount);
            ++seen[static_cast<std::size_t>(v)];
            auto [it, fresh] = last_in_lane.try_emplace((*r)->publisher, -1);
            EXPECT_GT(v, it->second) << "out of order within one lane";
            it->second = v;
            ++received;
        }
    };
    {
        Background first(args);
        drain(kCount / 3);
        ASSERT_EQ(::kill(first.pid(), SIGKILL), 0);
        const RunResult r = first.wait();
        EXPECT_EQ(r.signal, SIGKILL) << r.describe();
    }
    // What the killed bridge had already put into the channel is still there to read.
    Background second(args);
    drain(kCount);  // exactly kCount: more would be duplicates (checked below)
    // Past the consumer's ack wait: whatever JetStream re-sends unacked must not arrive again.
    EXPECT_EQ(next(*sink, 1500ms), "<none>") << "a message was delivered twice";
    for (int v = 0; v < kCount; ++v) {
        ASSERT_EQ(seen[static_cast<std::size_t>(v)], 1) << "message " << v;
    }
    ASSERT_EQ(::kill(second.pid(), SIGTERM), 0);
    EXPECT_EQ(second.wait().exit_code, 0);
}

/// The state file decides where a restarted bridge resumes, whatever the consumer acked (acks
/// still in the client's buffer die with a SIGKILL).
TEST_F(BridgeTest, JetStreamResumesRightAfterTheRecordedSequence) {
    NatsServer server(jetstream());
    add_stream(server.port(), "R", "r.>");
    js_publish(server.port(), "r.a", 20);
    add_consumer(server.port(), "R", "d2", 30s);  // exists, nothing acked
    const std::string state = unique_path("bridge-state");
    {
        std::ofstream(state) << "00000000000000000012\n";  // stream seq 12 = message "11"
    }
    auto sink = Subscriber::create("jsr", config());
    ASSERT_TRUE(sink);
    BridgeOptions js;
    js.jetstream = "R";
    js.durable = "d2";
    js.state_file = state;
    START_BRIDGE(b, server.url("r.a"), chan("jsr"), js);
    for (int i = 12; i < 20; ++i) {
        ASSERT_EQ(next(*sink), std::to_string(i));
    }
    EXPECT_EQ(next(*sink, 200ms), "<none>");
    EXPECT_EQ(b.stop(), "");
    std::ifstream in(state);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "00000000000000000020");
}

}  // namespace
}  // namespace ipckit::test
