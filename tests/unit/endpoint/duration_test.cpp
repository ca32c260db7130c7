// SPDX-License-Identifier: MIT
// The ipckit command's shared duration parser (tools/ipckit/duration.hpp, header-only).
#include "../../../tools/ipckit/duration.hpp"

#include <gtest/gtest.h>

#include "ipckit/core/deadline.hpp"

namespace ipckit::cli {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsUnitsAndBareSeconds) {
    EXPECT_EQ(*parse_duration("1.5s"), 1500ms);
    EXPECT_EQ(*parse_duration("250ms"), 250ms);
    EXPECT_EQ(*parse_duration("10us"), 10us);
    EXPECT_EQ(*parse_duration("100ns"), 100ns);
    EXPECT_EQ(*parse_duration("2m"), 120s);
    EXPECT_EQ(*parse_duration("1h"), 3600s);
    EXPECT_EQ(*parse_duration("2"), 2s);
    EXPECT_EQ(*parse_duration("0"), 0ns);  // poll once
    EXPECT_EQ(*parse_duration("0.5"), 500ms);
}

TEST(ParseDuration, HugeValuesSaturateToForever) {  // A09
    for (const char* huge : {"1e30", "1e30s", "99999999999h", "18446744073709551616s"}) {
        auto d = parse_duration(huge);
        ASSERT_TRUE(d) << huge;
        EXPECT_EQ(*d, std::chrono::nanoseconds::max()) << huge;
        EXPECT_TRUE(Deadline::after(*d).is_never()) << huge;
    }
}

TEST(ParseDuration, RejectsMalformedAndNegativeValuesNamingThem) {
    for (const char* bad : {"", "-1", "-0.5s", "abc", "1.2.3s", "5parsecs", ".", ".s", "s", "1 s",
                            "e5", "1e", "0x10"}) {
        auto d = parse_duration(bad);
        ASSERT_FALSE(d) << "'" << bad << "' accepted";
        EXPECT_EQ(d.error().code(), std::errc::invalid_argument);
        EXPECT_NE(d.error().message().find(std::string("'") + bad + "'"), std::string::npos)
            << d.error().message();
    }
}

TEST(ParseDuration, EachRefusalKeepsItsWording) {
    EXPECT_EQ(parse_duration("").error().detail(), "is empty (e.g. 1.5s, 250ms, 0)");
    EXPECT_EQ(parse_duration("-1").error().detail(), "must not be negative");
    EXPECT_EQ(parse_duration("abc").error().detail(),
              "is not a number with a unit (e.g. 1.5s, 250ms, 0)");
    EXPECT_EQ(
        parse_duration("5parsecs").error().message(),
        "duration '5parsecs': Invalid argument (has an unknown unit (use ns, us, ms, s, m or h))");
    // The text is shown up to 40 characters.
    const std::string longer(50, '7');
    EXPECT_EQ(parse_duration(longer + "x").error().object(), "'" + longer.substr(0, 40) + "'");
}

}  // namespace
}  // namespace ipckit::cli
