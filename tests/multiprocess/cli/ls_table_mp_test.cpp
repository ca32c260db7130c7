// SPDX-License-Identifier: MIT
// The ls table (libsmartcols): column choice, --noheadings, --raw, --bytes, width fitting, and
// control characters in names escaped so that one object is one line.
#include "cli_support.hpp"
#include "ipc_registry.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

/// A POSIX shm object of `size` bytes; the per-test cleanup removes every name with the run's
/// prefix, including names unique_shm_name() did not register (a suffix with a newline).
bool make_sized_shm(const std::string& name, off_t size) {
    const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        return false;
    }
    const bool ok = ::ftruncate(fd, size) == 0;
    ::close(fd);
    return ok;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        out.push_back(l);
    }
    return out;
}

TEST(CliLsTable, ANameWithANewlineStaysOnItsLine) {
    const std::string base = test::unique_shm_name("nl");
    const std::string name = base + "\nFAKE shm evil";
    ASSERT_TRUE(make_sized_shm(name, 4096));
    for (const char* flag : {"--noheadings", "--raw"}) {
        auto r = test::ipckit({"ls", "--prefix", base, "--noheadings", flag});
        ASSERT_EQ(r.exit_code, 0) << r.describe();
        const auto lines = lines_of(r.out);
        ASSERT_EQ(lines.size(), 1U) << flag << ":\n" << r.out;
        EXPECT_NE(lines[0].find(base + "\\x0aFAKE"), std::string::npos) << r.out;
    }
    // --json keeps the name as it is (JSON escapes it).
    auto objects = test::ls_json({"--prefix", base});
    ASSERT_EQ(objects.size(), 1U);
    EXPECT_EQ(objects[0]["name"], name);
}

// Any user can create a shm name that is not UTF-8: ls --json and stat --json still answer
// (valid JSON, the bad byte replaced by U+FFFD), instead of failing the whole listing.
TEST(CliLsTable, ANameThatIsNotUtf8DoesNotBreakTheJson) {
    const std::string base = test::unique_shm_name("utf");
    const std::string name = base + "\xff";
    ASSERT_TRUE(make_sized_shm(name, 4096));
    auto r = test::ipckit({"ls", "--prefix", base, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    auto objects = test::ls_json({"--prefix", base});
    ASSERT_EQ(objects.size(), 1U);
    EXPECT_EQ(objects[0]["name"], base + "\xef\xbf\xbd");
    r = test::ipckit({"stat", "shm:" + name, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("\xef\xbf\xbd"), std::string::npos) << r.out;
}

TEST(CliLsTable, OutputChoosesColumnsForScripts) {
    const std::string name = test::unique_shm_name("cols");
    ASSERT_TRUE(make_sized_shm(name, 20000));
    auto r = test::ipckit(
        {"ls", "--prefix", name, "-o", "TYPE,NAME,SIZE", "--bytes", "--noheadings", "--raw"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, "shm " + name + " 20000\n");

    // Without --bytes the size is human-sized; column names are case-insensitive.
    r = test::ipckit({"ls", "--prefix", name, "--output", "size", "-n", "-r"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, "19.5K\n");

    // +COL adds to the default columns; the header names them in order.
    r = test::ipckit({"ls", "--prefix", name, "-o", "+URI,PATH", "--raw"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 2U) << r.out;
    EXPECT_EQ(lines[0], "TYPE NAME ID OWNER MODE SIZE COUNT PROCESSES STATE URI PATH");
    EXPECT_NE(lines[1].find(" shm:" + name + " /dev/shm" + name), std::string::npos) << r.out;
}

TEST(CliLsTable, AnUnknownColumnIsBadInputNamingTheKnownOnes) {
    auto r = test::ipckit({"ls", "-o", "TYPE,NOPE", "--prefix", "ipckit-test-none-"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_EQ(r.err.rfind("ipckit ls: --output 'NOPE'", 0), 0U) << r.err;
    EXPECT_NE(r.err.find("PROCESSES"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
}

TEST(CliLsTable, WidthFitsTheTableIntoTheColumns) {
    const std::string name = test::unique_shm_name(std::string(60, 'w'));
    ASSERT_TRUE(make_sized_shm(name, 1));
    auto wide = test::ipckit({"ls", "--prefix", name});  // a pipe: no fitting
    ASSERT_EQ(wide.exit_code, 0) << wide.describe();
    ASSERT_NE(wide.out.find(name), std::string::npos);
    auto r = test::ipckit({"ls", "--prefix", name, "--width", "60"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 2U) << r.out;
    for (const std::string& l : lines) {
        EXPECT_LE(l.size(), 60U) << r.out;
    }
    EXPECT_NE(lines[1].find("stale"), std::string::npos) << r.out;  // STATE is not cut off
    EXPECT_EQ(test::ipckit({"ls", "--width", "5"}).exit_code, 2);
}

}  // namespace
}  // namespace ipckit
