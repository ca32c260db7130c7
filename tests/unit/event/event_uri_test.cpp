// SPDX-License-Identifier: MIT
// The event: URI scheme: names as channel names, ?dir= absolute, nothing else accepted.
#include "ipckit/endpoint/endpoint.hpp"
#include "ipckit/endpoint/uri.hpp"

#include <gtest/gtest.h>

namespace ipckit {
namespace {

TEST(EventUri, ParsesNameAndDir) {
    auto u = Uri::parse("event:jobs.done-1?dir=/run/app");
    ASSERT_TRUE(u) << u.error().message();
    EXPECT_EQ(u->scheme(), UriScheme::Event);
    EXPECT_EQ(u->scheme_name(), "event");
    const auto* e = u->get_if<EventUri>();
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->name, "jobs.done-1");
    EXPECT_EQ(e->dir, "/run/app");
    EXPECT_EQ(u->object_string(), "event:jobs.done-1");
    EXPECT_FALSE(Uri::parse("event:x").value().get_if<EventUri>()->dir.has_value());
    EXPECT_EQ(Uri::known_options(UriScheme::Event), (std::vector<std::string_view>{"dir"}));
}

TEST(EventUri, RefusesNamesThatCouldLeaveTheDirectoryAndUnknownOptions) {
    for (const char* bad : {"event:../x",
                            "event:.hidden",
                            "event:a/b",
                            "event:a b",
                            "event:",
                            "event:x?dir=relative",
                            "event:x?ids=4",
                            "event:x?dir=/a&dir=/b"}) {
        auto u = Uri::parse(bad);
        ASSERT_FALSE(u) << bad;
        EXPECT_EQ(u.error().code(), std::errc::invalid_argument) << bad;
    }
    auto longname = Uri::parse("event:" + std::string(201, 'a'));
    ASSERT_FALSE(longname);
    EXPECT_EQ(longname.error().code(), std::errc::filename_too_long);
}

TEST(EventUri, IsNotAMessageEndpoint) {
    auto u = Uri::parse("event:x").value();
    auto e = Endpoint::open(u, EndpointRole::Sender);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code(), std::errc::invalid_argument);
    EXPECT_NE(e.error().message().find("not a message endpoint"), std::string::npos);
}

}  // namespace
}  // namespace ipckit
