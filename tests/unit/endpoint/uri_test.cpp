// SPDX-License-Identifier: MIT
#include "ipckit/endpoint/uri.hpp"

#include <string>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

Uri parse_ok(std::string_view text) {
    auto r = Uri::parse(text);
    EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message());
    if (!r) {
        return *Uri::parse("mq:/placeholder");
    }
    return *r;
}

/// Parsing fails with one line whose detail contains `part`.
void expect_bad(std::string_view text, std::string_view part,
                std::errc code = std::errc::invalid_argument) {
    auto r = Uri::parse(text);
    ASSERT_FALSE(r) << "accepted: " << text;
    EXPECT_EQ(r.error().code(), code) << r.error().message();
    EXPECT_EQ(r.error().op(), "uri");
    const std::string msg = r.error().message();
    EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_LT(msg.size(), 400U) << msg;
}

TEST(Uri, ParsesFifoPaths) {
    auto u = parse_ok("fifo:/tmp/x.fifo?create&mode=0640&raw");
    EXPECT_EQ(u.scheme(), UriScheme::Fifo);
    const auto* f = u.get_if<FifoUri>();
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->path, "/tmp/x.fifo");
    EXPECT_TRUE(f->create.create);
    EXPECT_EQ(f->create.mode->bits(), 0640U);
    EXPECT_TRUE(f->raw);
    EXPECT_EQ(parse_ok("fifo:rel/ative").get_if<FifoUri>()->path, "rel/ative");
    EXPECT_EQ(parse_ok("fifo:/a%3Fb").get_if<FifoUri>()->path, "/a?b");
    EXPECT_EQ(u.object_string(), "fifo:/tmp/x.fifo");
}

TEST(Uri, ParsesPosixQueueWithOptions) {
    auto u = parse_ok("mq:/jobs?maxmsg=64&msgsize=1024&prio=7");
    const auto* mq = u.get_if<PosixMqUri>();
    ASSERT_NE(mq, nullptr);
    EXPECT_EQ(mq->name.str(), "/jobs");
    EXPECT_EQ(*mq->max_messages, 64);
    EXPECT_EQ(*mq->max_message_size, 1024);
    EXPECT_EQ(*mq->priority, 7U);
    EXPECT_FALSE(mq->create.create);
    EXPECT_FALSE(mq->create.mode.has_value());
    EXPECT_EQ(u.scheme_name(), "mq");
    EXPECT_EQ(*parse_ok("mq:/q?prio=32767").get_if<PosixMqUri>()->priority, 32767U);
}

TEST(Uri, ParsesEverySysvKeyForm) {
    auto k = parse_ok("sysvmq:4587?type=2");
    const auto* q = k.get_if<SysvMqUri>();
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->address.kind, SysvAddress::Kind::Key);
    EXPECT_EQ(q->address.key.value(), 4587);
    EXPECT_EQ(*q->type, 2);
    EXPECT_EQ(k.object_string(), "sysvmq:0x000011eb");

    EXPECT_EQ(parse_ok("sysvmq:0x11eb").get_if<SysvMqUri>()->address.key.value(), 0x11eb);
    EXPECT_EQ(parse_ok("sysvmq:0xffffffff").get_if<SysvMqUri>()->address.key.value(), -1);
    EXPECT_TRUE(parse_ok("sysvmq:private").get_if<SysvMqUri>()->address.key.is_private());

    auto f = parse_ok("sysvmq:ftok:/etc/hostname:7");
    const auto& fa = f.get_if<SysvMqUri>()->address;
    EXPECT_EQ(fa.kind, SysvAddress::Kind::Ftok);
    EXPECT_EQ(fa.ftok_path, "/etc/hostname");
    EXPECT_EQ(fa.ftok_id, 7);
    EXPECT_EQ(f.object_string(), "sysvmq:ftok:/etc/hostname:7");

    auto i = parse_ok("sysvmq:id:42");
    EXPECT_EQ(i.get_if<SysvMqUri>()->address.kind, SysvAddress::Kind::Id);
    EXPECT_EQ(i.get_if<SysvMqUri>()->address.id, 42);
    EXPECT_EQ(parse_ok("sysvmq:id:0").get_if<SysvMqUri>()->address.id, 0);
}

TEST(Uri, ReceiveTypesMayBeNegativeButSendTypesMustBePositive) {
    EXPECT_EQ(*parse_ok("sysvmq:7?type=-3").get_if<SysvMqUri>()->type, -3);  // A07: valid
    EXPECT_TRUE(validate_sysv_send_type(1));
    for (long bad : {0L, -3L}) {
        auto r = validate_sysv_send_type(bad);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code(), std::errc::invalid_argument);
        EXPECT_NE(r.error().message().find(">= 1"), std::string::npos);
    }
}

TEST(Uri, FtokIsResolvedOnlyWhenAsked) {
    // Parsing never touches the file system: a missing path parses, resolving names it.
    auto u = parse_ok("sysvmq:ftok:/nope/nothing:1");
    auto key = u.get_if<SysvMqUri>()->address.resolve_key();
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().code(), std::errc::no_such_file_or_directory);
    EXPECT_NE(key.error().message().find("ftok /nope/nothing"), std::string::npos);
    auto real = parse_ok("sysvmq:ftok:/:1").get_if<SysvMqUri>()->address.resolve_key();
    EXPECT_TRUE(real);
    EXPECT_FALSE(parse_ok("sysvmq:id:3").get_if<SysvMqUri>()->address.resolve_key());
}

TEST(Uri, ParsesUnixSocketsOfEveryType) {
    auto s = parse_ok("unix:/run/x.sock?raw&mode=0660");
    const auto* u = s.get_if<UnixUri>();
    ASSERT_NE(u, nullptr);
    EXPECT_EQ(u->type, UnixUri::Type::Stream);
    EXPECT_EQ(u->path, "/run/x.sock");
    EXPECT_FALSE(u->abstract);
    EXPECT_TRUE(u->raw);
    auto a = parse_ok("unix:@svc");
    EXPECT_TRUE(a.get_if<UnixUri>()->abstract);
    EXPECT_EQ(a.get_if<UnixUri>()->path, "svc");
    EXPECT_EQ(a.object_string(), "unix:@svc");
    EXPECT_EQ(parse_ok("unix-dgram:/tmp/d").get_if<UnixUri>()->type, UnixUri::Type::Datagram);
    EXPECT_EQ(parse_ok("unix-seqpacket:@sp").get_if<UnixUri>()->type, UnixUri::Type::Seqpacket);
    EXPECT_EQ(parse_ok("unix:/" + std::string(106, 'p')).get_if<UnixUri>()->path.size(), 107U);
}

TEST(Uri, ParsesTcpAndUdpIncludingIpv6) {
    auto t = parse_ok("tcp:127.0.0.1:8080");
    const auto* i = t.get_if<InetUri>();
    ASSERT_NE(i, nullptr);
    EXPECT_EQ(i->protocol, InetUri::Protocol::Tcp);
    EXPECT_EQ(i->host, "127.0.0.1");
    EXPECT_EQ(i->port, 8080);
    auto v6 = parse_ok("tcp:[::1]:9000?raw");
    EXPECT_EQ(v6.get_if<InetUri>()->host, "::1");
    EXPECT_TRUE(v6.get_if<InetUri>()->ipv6_literal);
    EXPECT_TRUE(v6.get_if<InetUri>()->raw);
    EXPECT_EQ(v6.object_string(), "tcp:[::1]:9000");
    auto udp = parse_ok("udp:localhost:0");
    EXPECT_EQ(udp.get_if<InetUri>()->protocol, InetUri::Protocol::Udp);
    EXPECT_EQ(udp.get_if<InetUri>()->port, 0);
    EXPECT_EQ(parse_ok("tcp:my-host.example.org:65535").get_if<InetUri>()->port, 65535);
}

TEST(Uri, ParsesChannels) {
    auto c = parse_ok("chan:ticks?dir=/dev/hugepages&capacity=1024&msgsize=64k&create");
    const auto* ch = c.get_if<ChanUri>();
    ASSERT_NE(ch, nullptr);
    EXPECT_EQ(ch->name, "ticks");
    EXPECT_EQ(*ch->dir, "/dev/hugepages");
    EXPECT_EQ(*ch->capacity, 1024U);
    EXPECT_EQ(*ch->max_message_size, 65536U);
    EXPECT_TRUE(ch->create.create);
    EXPECT_EQ(parse_ok("chan:a.b_c-D9").get_if<ChanUri>()->name, "a.b_c-D9");
    EXPECT_EQ(channel_file_name("ticks"), "ticks.chan");
}

TEST(Uri, ParsesSharedMemoryAndSemaphores) {
    auto s = parse_ok("shm:/frame?size=1M&mode=600&create=yes");
    EXPECT_EQ(s.get_if<PosixShmUri>()->name.str(), "/frame");
    EXPECT_EQ(*s.get_if<PosixShmUri>()->size, 1024U * 1024U);
    EXPECT_EQ(s.get_if<PosixShmUri>()->create.mode->bits(), 0600U);
    EXPECT_TRUE(s.get_if<PosixShmUri>()->create.create);
    EXPECT_EQ(*parse_ok("sysvshm:0x10?size=4096").get_if<SysvShmUri>()->size, 4096U);
    auto sem = parse_ok("sem:/lock?value=1&create");
    EXPECT_EQ(*sem.get_if<PosixSemUri>()->value, 1U);
    auto ss = parse_ok("sysvsem:99#2?nsems=4&value=1");
    const auto* set = ss.get_if<SysvSemUri>();
    ASSERT_NE(set, nullptr);
    EXPECT_EQ(set->address.key.value(), 99);
    EXPECT_EQ(*set->index, 2U);
    EXPECT_EQ(*set->nsems, 4);
    EXPECT_EQ(ss.object_string(), "sysvsem:0x00000063#2");
    EXPECT_FALSE(parse_ok("sysvsem:99").get_if<SysvSemUri>()->index.has_value());
    EXPECT_EQ(*parse_ok("sysvsem:ftok:/tmp/a#b:3#1").get_if<SysvSemUri>()->index, 1U);
}

TEST(Uri, ParsesNats) {
    auto n = parse_ok("nats://127.0.0.1:4222/ticks.eu.>");
    const auto* nu = n.get_if<NatsUri>();
    ASSERT_NE(nu, nullptr);
    EXPECT_EQ(nu->host, "127.0.0.1");
    EXPECT_EQ(nu->port, 4222);
    EXPECT_EQ(nu->subject, "ticks.eu.>");
    EXPECT_EQ(parse_ok("nats://[::1]/a.*.c").get_if<NatsUri>()->port, 4222);  // default port
    EXPECT_EQ(n.object_string(), "nats://127.0.0.1:4222/ticks.eu.>");
}

TEST(Uri, RejectsMissingOrUnknownSchemes) {
    expect_bad("", "empty URI");
    expect_bad("/jobs", "missing scheme");
    expect_bad(":x", "missing scheme");
    expect_bad("mqq:/jobs", "unknown scheme 'mqq'");
    expect_bad("MQ:/jobs", "unknown scheme 'MQ'");
    expect_bad("mq:", "nothing after 'mq:'");
    expect_bad("mq:?maxmsg=1", "nothing after 'mq:'");
    expect_bad(std::string("mq:/a\0b", 7), "NUL");
    expect_bad("fifo:" + std::string(9000, 'x'), "longer than 8192", std::errc::filename_too_long);
}

TEST(Uri, RejectsBadPosixNamesNamingTheRule) {
    for (const char* scheme : {"mq", "shm", "sem"}) {
        const std::string s(scheme);
        expect_bad(s + ":jobs", "must start with '/'");
        expect_bad(s + ":/", "is empty after '/'");
        expect_bad(s + ":/a/b", "contains '/'");
        expect_bad(s + ":/..", "'.' or '..'");
        expect_bad(s + ":/a%00b", "%00");
        expect_bad(s + ":/" + std::string(300, 'n'), "longer than 251",
                   std::errc::filename_too_long);
    }
}

TEST(Uri, RejectsSysvKeyEdgeCases) {  // A03
    for (const char* scheme : {"sysvmq", "sysvshm", "sysvsem"}) {
        const std::string s(scheme);
        expect_bad(s + ":0", "IPC_PRIVATE");
        expect_bad(s + ":-1", "key '-1'");
        expect_bad(s + ":0x1ffffffff", "0x1ffffffff");
        expect_bad(s + ":abc", "key 'abc'");
        expect_bad(s + ":ftok:/etc/hostname:0", "ftok id '0' is not in [1, 255]");
        expect_bad(s + ":ftok:/etc/hostname:256", "ftok id '256'");
        expect_bad(s + ":ftok:/etc/hostname", "missing ':ID'");
        expect_bad(s + ":ftok:/etc/hostname:x", "ftok id 'x'");
        expect_bad(s + ":ftok::3", "ftok path is empty");
        expect_bad(s + ":ftok:", "expected ftok:PATH:ID");
        expect_bad(s + ":id:", "id ''");
        expect_bad(s + ":id:-4", "id '-4'");
        expect_bad(s + ":id:99999999999", "id '99999999999'");
    }
}

TEST(Uri, RejectsBadSemaphoreIndexes) {
    expect_bad("sysvsem:5#", "semaphore index '#'");
    expect_bad("sysvsem:5#x", "semaphore index '#x'");
    expect_bad("sysvsem:5#-1", "semaphore index '#-1'");
    expect_bad("sysvsem:5#32000", "semaphore index '32000'");
    expect_bad("sysvsem:#1", "missing key before '#'");
    expect_bad("sysvsem:5?nsems=2#1", "must come before");
    expect_bad("sysvsem:5#3?nsems=2", "not below nsems=2");
    expect_bad("sysvmq:5#1", "key '5#1'");  // '#' means nothing for a queue
}

TEST(Uri, RejectsBadUnixAddresses) {  // A22: empty abstract name
    expect_bad("unix:@", "abstract socket name after '@' is empty");
    expect_bad("unix-dgram:@", "is empty");
    expect_bad("unix:/" + std::string(107, 'p'), "at most 107", std::errc::filename_too_long);
    expect_bad("unix:@" + std::string(108, 'p'), "at most 107", std::errc::filename_too_long);
    expect_bad("unix:@svc?mode=0600", "abstract socket");
    expect_bad("unix-dgram:/x?raw", "unknown option 'raw' for unix-dgram:");
}

TEST(Uri, RejectsBadHostsAndPorts) {
    for (const char* scheme : {"tcp", "udp"}) {
        const std::string s(scheme);
        expect_bad(s + ":localhost", "missing ':PORT'");
        expect_bad(s + ":localhost:", "port ''");
        expect_bad(s + ":localhost:99999", "port '99999' is not in [0, 65535]");
        expect_bad(s + ":localhost:-1", "port '-1'");
        expect_bad(s + ":localhost:http", "port 'http'");
        expect_bad(s + "::80", "host is empty");
        expect_bad(s + ":::1:80", "must be in brackets");
        expect_bad(s + ":[::1:80", "no closing ']'");
        expect_bad(s + ":[zz::1]:80", "not an IPv6 address");
        expect_bad(s + ":[::1]80", "expected ':PORT' after ']'");
        expect_bad(s + ":bad host:80", "host 'bad host'");
        expect_bad(s + ":a..b:80", "host 'a..b'");
    }
    expect_bad("udp:h:1?raw", "unknown option 'raw' for udp: (it takes no options)");
}

TEST(Uri, RejectsChannelNamesThatCouldEscapeTheirDirectory) {  // A22
    expect_bad("chan:../../etc/x", "must not start with '.'");
    expect_bad("chan:a/b", "contains '/'");
    expect_bad("chan:.", "must not start with '.'");
    expect_bad("chan:a%2Fb", "contains '/'");
    expect_bad("chan:a%00b", "%00");
    expect_bad("chan:a b", "contains ' '");
    expect_bad("chan:" + std::string(1 << 20, 'c'), "longer than 8192", std::errc::filename_too_long);
    expect_bad("chan:" + std::string(201, 'c'), "at most 200", std::errc::filename_too_long);
    expect_bad("chan:x?dir=relative", "must be an absolute path");
    expect_bad("chan:x?capacity=0", "capacity must be >= 1");
}

TEST(Uri, RejectsBadNats) {
    expect_bad("nats:host:4222/x", "expected nats://");
    expect_bad("nats://host:4222", "missing '/SUBJECT'");
    expect_bad("nats://host:4222/", "subject is empty");
    expect_bad("nats://host:4222/a..b", "empty token");
    expect_bad("nats://host:4222/a.>.b", "'>' must be the whole last token");
    expect_bad("nats://host:4222/a*", "'*' must be a whole token");
    expect_bad("nats://host:0/a", "port '0'");
    expect_bad("nats://host:99999/a", "port '99999'");
    expect_bad("nats://host:1/a?x=1", "takes no options");
}

TEST(Uri, RejectsUnknownRepeatedAndMalformedOptions) {
    expect_bad("mq:/q?maxmsgs=3", "unknown option 'maxmsgs' for mq: (known: maxmsg, msgsize");
    expect_bad("mq:/q?maxmsg=3&maxmsg=4", "option 'maxmsg' given twice");
    expect_bad("mq:/q?", "empty option");
    expect_bad("mq:/q?maxmsg=3&", "empty option");
    expect_bad("mq:/q?&maxmsg=3", "empty option");
    expect_bad("mq:/q?=3", "has no name");
    expect_bad("mq:/q?maxmsg", "needs a value");
    expect_bad("mq:/q?maxmsg=", "empty value");
    expect_bad("mq:/q?maxmsg=abc", "option maxmsg 'abc' is not a number");
    expect_bad("mq:/q?maxmsg=0", "option maxmsg '0' is not in [1, 65536]");  // A09
    expect_bad("mq:/q?msgsize=99999999", "option msgsize '99999999' is not in");
    expect_bad("mq:/q?prio=32768", "option prio '32768' is not in [0, 32767]");  // A07
    expect_bad("mq:/q?prio=-1", "option prio '-1'");
    expect_bad("mq:/q?mode=0888", "not an octal mode");
    expect_bad("mq:/q?mode=rw", "not an octal mode");
    expect_bad("mq:/q?mode=01777", "outside 0777");
    expect_bad("mq:/q?create=maybe", "option create 'maybe' is not a boolean");
    expect_bad("mq:/q?maxmsg=%zz", "bad escape '%zz'");
    expect_bad("mq:/q?maxmsg=1%", "bad escape");
    expect_bad("sysvmq:5?type=1.5", "option type '1.5' is not a number");
    expect_bad("sysvmq:5?type=99999999999999999999", "option type");
    expect_bad("shm:/s?size=12q", "is not a size");
    expect_bad("shm:/s?size=-1", "is not a size");
    expect_bad("shm:/s?size=100000G", "larger than 64 TiB");
    expect_bad("sysvshm:5?size=0", "size must be >= 1");
    expect_bad("sysvsem:5?value=40000", "option value '40000' is not in [0, 32767]");
    expect_bad("sem:/s?value=-1", "option value '-1'");
    expect_bad("fifo:/x?prio=1", "unknown option 'prio' for fifo:");
}

TEST(Uri, OptionNumbersKeepTheirGrammar) {
    // Integers: decimal, 0x hex and a sign, inside the option's range.
    EXPECT_EQ(*parse_ok("sysvmq:5?type=-0x10").get_if<SysvMqUri>()->type, -16);
    EXPECT_EQ(*parse_ok("mq:/q?maxmsg=0x10").get_if<PosixMqUri>()->max_messages, 16);
    EXPECT_EQ(*parse_ok("mq:/q?maxmsg=007").get_if<PosixMqUri>()->max_messages, 7);
    EXPECT_EQ(*parse_ok("mq:/q?prio=-0").get_if<PosixMqUri>()->priority, 0U);
    EXPECT_EQ(parse_ok("sysvmq:id:0x2a").get_if<SysvMqUri>()->address.id, 42);
    expect_bad("mq:/q?maxmsg=+5", "option maxmsg '+5' is not a number");
    expect_bad("mq:/q?maxmsg=5%20", "option maxmsg '5 ' is not a number");
    expect_bad("mq:/q?maxmsg=%205", "option maxmsg ' 5' is not a number");
    expect_bad("mq:/q?maxmsg=0x", "option maxmsg '0x' is not a number");
    expect_bad("mq:/q?maxmsg=1k", "option maxmsg '1k' is not a number");
    expect_bad("sysvmq:5?type=-9223372036854775808",
               "option type '-9223372036854775808' is not in [-9223372036854775807, "
               "9223372036854775807]");
    expect_bad("sysvmq:id:-1", "id '-1' is not in [0, 2147483647]");
}

TEST(Uri, OptionSizesKeepTheirGrammar) {
    // A k/M/G suffix in any case (binary), hex, and "-0" (the integer grammar's sign).
    const auto size = [](std::string_view text) {
        return *parse_ok(text).get_if<PosixShmUri>()->size;
    };
    EXPECT_EQ(size("shm:/s?size=4096"), 4096U);
    EXPECT_EQ(size("shm:/s?size=64k"), 65536U);
    EXPECT_EQ(size("shm:/s?size=64K"), 65536U);
    EXPECT_EQ(size("shm:/s?size=16m"), 16U << 20);
    EXPECT_EQ(size("shm:/s?size=1g"), 1ULL << 30);
    EXPECT_EQ(size("shm:/s?size=0x1000"), 4096U);
    EXPECT_EQ(size("shm:/s?size=0x1k"), 1024U);
    EXPECT_EQ(size("shm:/s?size=-0"), 0U);
    EXPECT_EQ(size("shm:/s?size=70368744177664"), 1ULL << 46);  // 64 TiB exactly
    EXPECT_EQ(*parse_ok("chan:c?capacity=65536G").get_if<ChanUri>()->capacity, 1ULL << 46);
    expect_bad("shm:/s?size=64KB", "option size '64KB' is not a size (e.g. 4096, 64k, 16M)");
    expect_bad("shm:/s?size=64kb", "is not a size");
    expect_bad("shm:/s?size=1.5k", "is not a size");
    expect_bad("shm:/s?size=k", "is not a size");
    expect_bad("shm:/s?size=%2064", "option size ' 64' is not a size");
    expect_bad("shm:/s?size=64%20", "option size '64 ' is not a size");
    expect_bad("shm:/s?size=-1k", "is not a size");
    expect_bad("shm:/s?size=65537g", "option size '65537g' is larger than 64 TiB");
    expect_bad("chan:c?msgsize=68719476737k",
               "option msgsize '68719476737k' is larger than 64 TiB");
}

TEST(Uri, ASizeBeyond64TiBSaysSoEvenWithoutAUnit) {
    // A number past 64 TiB on its own was "not a size"; it is a size, only too large.
    expect_bad("shm:/s?size=70368744177665", "option size '70368744177665' is larger than 64 TiB");
    expect_bad("shm:/s?size=18014398509481985K", "is larger than 64 TiB");  // * 1024 would wrap
    expect_bad("shm:/s?size=99999999999999999999", "is larger than 64 TiB");
}

TEST(Uri, ErrorMessagesNameTheUriAndTheBadPart) {
    auto r = Uri::parse("tcp:h:99999");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(),
              "uri 'tcp:h:99999': Invalid argument (port '99999' is not in [0, 65535])");
    auto huge = Uri::parse("chan:" + std::string(5000, 'z') + "/");
    ASSERT_FALSE(huge);
    EXPECT_LT(huge.error().message().size(), 300U);  // hostile input is shortened
}

TEST(Uri, KnowsEverySchemeAndItsOptions) {
    EXPECT_EQ(Uri::known_schemes().size(), 16U);
    for (std::string_view s : Uri::known_schemes()) {
        // Every scheme name round-trips through scheme_name().
        bool found = false;
        for (int i = 0; i <= static_cast<int>(UriScheme::Srv); ++i) {
            found = found || scheme_name(static_cast<UriScheme>(i)) == s;
        }
        EXPECT_TRUE(found) << s;
    }
    EXPECT_TRUE(Uri::known_options(UriScheme::Nats).empty());
    EXPECT_EQ(Uri::known_options(UriScheme::PosixMq).size(), 5U);
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

TEST(Uri, ChanGroupNamesAWorkQueueGroup) {
    auto u = parse_ok("chan:jobs?group=workers.1_a-B&dir=/run/x");
    const auto* c = u.get_if<ChanUri>();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->name, "jobs");
    EXPECT_EQ(c->group, std::optional<std::string>("workers.1_a-B"));
    EXPECT_EQ(u.object_string(), "chan:jobs");
    EXPECT_FALSE(parse_ok("chan:jobs").get_if<ChanUri>()->group.has_value());
    EXPECT_EQ(parse_ok("chan:jobs?group=" + std::string(63, 'g')).get_if<ChanUri>()->group->size(),
              63U);
    expect_bad("chan:jobs?group=", "option 'group' has an empty value");
    expect_bad("chan:jobs?group=" + std::string(64, 'g'), "must be 1..63 characters");
    expect_bad("chan:jobs?group=a/b", "option group 'a/b' contains '/'");
    expect_bad("chan:jobs?group=a%20b", "option group 'a b' contains ' '");
    expect_bad("chan:jobs?group=a&group=b", "group");
}

TEST(Uri, SrvNamesAServiceLikeAChannel) {
    auto u = parse_ok("srv:calc?dir=/run/svc");
    EXPECT_EQ(u.scheme(), UriScheme::Srv);
    EXPECT_EQ(u.scheme_name(), "srv");
    const auto* s = u.get_if<SrvUri>();
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->name, "calc");
    EXPECT_EQ(s->dir, std::optional<std::string>("/run/svc"));
    EXPECT_EQ(u.object_string(), "srv:calc");
    EXPECT_FALSE(parse_ok("srv:a.b_c-D9").get_if<SrvUri>()->dir.has_value());
    EXPECT_EQ(parse_ok("srv:" + std::string(180, 's')).get_if<SrvUri>()->name.size(), 180U);
    expect_bad("srv:" + std::string(181, 's'),
               "service name is 181 bytes; at most 180",
               std::errc::filename_too_long);
    expect_bad("srv:../x", "service name '../x' must not start with '.'");
    expect_bad("srv:a/b", "service name 'a/b' contains '/'");
    expect_bad("srv:", "");
    expect_bad("srv:calc?dir=rel", "option dir 'rel' must be an absolute path");
    expect_bad("srv:calc?group=w", "group");
    EXPECT_EQ(Uri::known_options(UriScheme::Srv), std::vector<std::string_view>{"dir"});
}

}  // namespace
}  // namespace ipckit
