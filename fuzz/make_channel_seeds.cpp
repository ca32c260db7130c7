// SPDX-License-Identifier: MIT
// Writes the channel target's seed corpus (fuzz/corpus/channel/, `make fuzz-seeds`): channel
// files made by the library itself, with tiny geometry (4 KiB lanes) so each is a few pages.
//
// A subscriber joins at each lane's stored tail, so a file copied as written has nothing for it
// to read. The "-rewound" variants move a lane's stored tail back a few records (as when its
// publisher died between committing records and storing its tail): a subscriber of the seed
// then reads those records, and the fuzzer starts from real ones.
//
// Usage: ipckit_fuzz_seeds OUT_DIR
#include "channel/layout.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ipckit::ChannelConfig;
using ipckit::ChannelPolicy;
namespace cd = ipckit::detail;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "ipckit_fuzz_seeds: %s\n", what.c_str());
    std::exit(1);
}

template <class T>
T value_or_die(ipckit::Result<T> r, const char* what) {
    if (!r) {
        die(std::string(what) + ": " + r.error().message());
    }
    return std::move(*r);
}

std::vector<char> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::vector<char>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        die("cannot write " + p.string());
    }
}

template <class T>
T field(const std::vector<char>& f, std::size_t off) {
    T v{};
    std::memcpy(&v, f.data() + off, sizeof v);
    return v;
}

template <class T>
void set_field(std::vector<char>& f, std::size_t off, T v) {
    std::memcpy(f.data() + off, &v, sizeof v);
}

std::size_t tail_offset(const std::vector<char>& f, std::uint32_t lane) {
    const auto pub_table = field<std::uint64_t>(f, offsetof(cd::Header, pub_table_off));
    return pub_table + std::uint64_t{lane} * cd::kPubRecordBytes + offsetof(cd::PubRecord, tail);
}

struct Maker {
    fs::path dir;  // where the library makes the channels
    fs::path out;  // the corpus

    [[nodiscard]] fs::path file(const std::string& name) const { return dir / (name + ".chan"); }

    ChannelConfig config(ChannelPolicy policy, std::uint32_t pubs, std::uint32_t subs) const {
        ChannelConfig c;
        c.policy = policy;
        c.lane_bytes = 4096;
        c.max_message_size = 256;
        c.max_publishers = pubs;
        c.max_subscribers = subs;
        c.max_loans = 2;
        c.options.dir = dir.string();
        return c;
    }

    void save(const std::string& seed, const std::vector<char>& bytes) const {
        write_file(out / seed, bytes);
        std::printf("%-28s %zu bytes\n", seed.c_str(), bytes.size());
    }

    /// Publishes messages of `sizes` through `pub`; returns the lane's tail after each.
    std::vector<std::uint64_t> publish(ipckit::Publisher& pub,
                                       const std::string& name,
                                       const std::vector<std::size_t>& sizes) const {
        std::vector<std::uint64_t> tails;
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            std::vector<std::byte> msg(sizes[i]);
            for (std::size_t b = 0; b < msg.size(); ++b) {
                msg[b] = static_cast<std::byte>('a' + (i + b) % 26);
            }
            value_or_die(pub.send_until(msg, ipckit::Deadline::now()), "send");
            const auto f = read_file(file(name));
            tails.push_back(field<std::uint64_t>(f, tail_offset(f, pub.lane())));
        }
        return tails;
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        die("usage: ipckit_fuzz_seeds OUT_DIR");
    }
    std::string tmp = (fs::temp_directory_path() / "ipckit-seeds-XXXXXX").string();
    if (::mkdtemp(tmp.data()) == nullptr) {
        die("mkdtemp failed");
    }
    const Maker m{tmp, argv[1]};
    fs::create_directories(m.out);

    {  // A fresh channel: header and empty tables.
        ipckit::Channel::create("empty", m.config(ChannelPolicy::Block, 1, 1)).value();
        m.save("empty-block", read_file(m.file("empty")));
    }
    {  // Block policy, two publishers, one subscriber that read some of it.
        const auto c = m.config(ChannelPolicy::Block, 2, 2);
        auto sub = value_or_die(ipckit::Subscriber::create("block", c), "subscriber");
        auto p0 = value_or_die(ipckit::Publisher::open("block", c.options), "publisher 0");
        auto p1 = value_or_die(ipckit::Publisher::open("block", c.options), "publisher 1");
        const auto t0 = m.publish(p0, "block", {0, 1, 8, 13, 256});
        const auto t1 = m.publish(p1, "block", {5, 64});
        (void)value_or_die(sub.try_receive(), "receive");
        auto f = read_file(m.file("block"));
        m.save("block-2pub", f);
        set_field<std::uint64_t>(f, tail_offset(f, p0.lane()), 0);
        set_field<std::uint64_t>(f, tail_offset(f, p1.lane()), t1.front());
        m.save("block-2pub-rewound", f);
        (void)t0;
    }
    {  // Overwrite policy, one lane wrapped around twice (pads at the ring's end, a floor).
        const auto c = m.config(ChannelPolicy::Overwrite, 1, 1);
        auto pub = value_or_die(ipckit::Publisher::create("lossy", c), "publisher");
        std::vector<std::size_t> sizes;
        for (int i = 0; i < 60; ++i) {
            sizes.push_back(static_cast<std::size_t>(40 + (i * 37) % 200));
        }
        const auto tails = m.publish(pub, "lossy", sizes);
        auto f = read_file(m.file("lossy"));
        m.save("overwrite-wrapped", f);
        set_field<std::uint64_t>(f, tail_offset(f, pub.lane()), tails[tails.size() - 6]);
        m.save("overwrite-wrapped-rewound", f);
    }
    {  // Messages of every size class up to max_message_size, one lane, read back from the start.
        const auto c = m.config(ChannelPolicy::Block, 1, 1);
        auto pub = value_or_die(ipckit::Publisher::create("sizes", c), "publisher");
        (void)m.publish(pub, "sizes", {0, 1, 8, 15, 16, 17, 255, 256});
        auto f = read_file(m.file("sizes"));
        set_field<std::uint64_t>(f, tail_offset(f, pub.lane()), 0);
        m.save("sizes-rewound", f);
    }
    {  // A creator that died before publishing the magic.
        auto f = read_file(m.file("empty"));
        set_field<std::uint64_t>(f, offsetof(cd::Header, magic), 0);
        m.save("uninitialised", f);
    }
    fs::remove_all(m.dir);
    return 0;
}
