// SPDX-License-Identifier: MIT
// event: through the real binary: ls lists events, stat shows ids and counters (text and JSON),
// rm refuses an event in use and removes an unused one, and bad event URIs are usage errors.
#include "../../unit/event/event_test_util.hpp"
#include "../cli/cli_support.hpp"

#include <filesystem>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using test::event_name;

TEST(EventCli, LsStatAndRmOfAnEvent) {
    const auto name = event_name();
    EventConfig c;
    c.max_ids = 8;
    {
        auto n = EventNotifier::create(name, c).value();
        ASSERT_TRUE(n.notify(3));
        ASSERT_TRUE(n.notify(3));
        ASSERT_TRUE(n.notify(5));

        const auto objects = test::ls_json({"--type", "event"});
        const auto o = test::find_object(objects, "name", name);
        ASSERT_FALSE(o.is_null()) << objects.dump();
        EXPECT_EQ(o["type"], "event");
        EXPECT_EQ(o["event"]["max_ids"], 8);

        auto st = test::ipckit({"stat", "event:" + name});
        ASSERT_TRUE(st.exited && st.exit_code == 0) << st.describe();
        EXPECT_NE(st.out.find("id 3: 2"), std::string::npos) << st.out;
        EXPECT_NE(st.out.find("id 5: 1"), std::string::npos) << st.out;
        EXPECT_NE(st.out.find("8 (creator pid " + std::to_string(::getpid()) + ")"),
                  std::string::npos)
            << st.out;

        auto js = test::ipckit({"stat", "--json", "event:" + name});
        ASSERT_TRUE(js.exited && js.exit_code == 0) << js.describe();
        const auto j = nlohmann::json::parse(js.out, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << js.out;
        const auto& counters =
            j.contains("object") ? j["object"]["event"]["counters"] : j["event"]["counters"];
        ASSERT_EQ(counters.size(), 2U) << js.out;
        EXPECT_EQ(counters[0]["id"], 3);
        EXPECT_EQ(counters[0]["count"], 2);
        EXPECT_EQ(counters[1]["id"], 5);
        EXPECT_EQ(counters[1]["count"], 1);

        // We map it: in use, refused without --force.
        auto busy = test::ipckit({"rm", "event:" + name});
        EXPECT_TRUE(busy.exited && busy.exit_code != 0) << busy.describe();
        EXPECT_TRUE(std::filesystem::exists(test::event_path(name)));
    }
    auto rm = test::ipckit({"rm", "event:" + name});
    EXPECT_TRUE(rm.exited && rm.exit_code == 0) << rm.describe();
    EXPECT_FALSE(std::filesystem::exists(test::event_path(name)));
    auto gone = test::ipckit({"stat", "event:" + name});
    EXPECT_TRUE(gone.exited && gone.exit_code == 1) << gone.describe();
    EXPECT_NE(gone.err.find("no such object"), std::string::npos) << gone.err;
}

TEST(EventCli, BadEventUrisAreUsageErrors) {
    for (const std::string bad : {"event:../x", "event:a/b", "event:x?ids=3", "event:x?dir=rel"}) {
        auto r = test::ipckit({"stat", bad});
        EXPECT_TRUE(r.exited && r.exit_code == 2) << bad << ": " << r.describe();
    }
}

}  // namespace
}  // namespace ipckit
