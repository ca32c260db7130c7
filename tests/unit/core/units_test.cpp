// SPDX-License-Identifier: MIT
// ipckit/core/units.hpp: every form the integer, size and duration grammars accept (with its
// value) and every form they refuse (with the reason). The URI options, the ipckit command and
// `ipckit bench --sizes` all parse through these, so a change here shows up in all three.
#include "ipckit/core/units.hpp"

#include "ipckit/core/deadline.hpp"

#include <climits>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

constexpr NumberSyntax kSigned{.sign = true};
constexpr NumberSyntax kSignedHex{.sign = true, .hex = true};
constexpr std::uint64_t k64TiB = std::uint64_t{1} << 46;
constexpr std::uint64_t k64MiB = std::uint64_t{64} << 20;

/// The reason `text` was refused (fails the test if it was accepted).
template <class T>
ParseError refused(const Parsed<T>& p, std::string_view text) {
    EXPECT_FALSE(p.has_value()) << "'" << text << "' was accepted";
    return p.error();
}

TEST(ParseInteger, AcceptsDecimalDigitsWithLeadingZeros) {
    EXPECT_EQ(*parse_integer("0", 0, 10), 0);
    EXPECT_EQ(*parse_integer("42", 0, 100), 42);
    EXPECT_EQ(*parse_integer("007", 0, 100), 7);
    EXPECT_EQ(*parse_integer("65536", 1, 65536), 65536);  // both ends of the range included
    EXPECT_EQ(*parse_integer("1", 1, 65536), 1);
}

TEST(ParseInteger, AcceptsASignOnlyWhenAsked) {
    EXPECT_EQ(*parse_integer("-3", INT64_MIN, INT64_MAX, kSigned), -3);
    EXPECT_EQ(*parse_integer("-0", 0, 10, kSigned), 0);  // zero, so inside [0, 10]
    EXPECT_EQ(refused(parse_integer("-3", INT64_MIN, INT64_MAX), "-3"), ParseError::NotANumber);
    // Never a '+'.
    EXPECT_EQ(refused(parse_integer("+3", INT64_MIN, INT64_MAX, kSignedHex), "+3"),
              ParseError::NotANumber);
}

TEST(ParseInteger, AcceptsHexOnlyWhenAsked) {
    EXPECT_EQ(*parse_integer("0x1f", 0, 1000, kSignedHex), 31);
    EXPECT_EQ(*parse_integer("0X1F", 0, 1000, kSignedHex), 31);
    EXPECT_EQ(*parse_integer("0x0010", 0, 1000, kSignedHex), 16);
    EXPECT_EQ(*parse_integer("-0x10", -100, 100, kSignedHex), -16);
    EXPECT_EQ(*parse_integer("10", 0, 1000, kSignedHex), 10);  // still decimal without 0x
    EXPECT_EQ(refused(parse_integer("0x10", 0, 1000, kSigned), "0x10"), ParseError::NotANumber);
    for (const char* bad : {"0x", "0xg", "0x-1", "-0x", "0x0x1", "1f", "00x1"}) {
        EXPECT_EQ(refused(parse_integer(bad, INT64_MIN, INT64_MAX, kSignedHex), bad),
                  ParseError::NotANumber)
            << bad;
    }
}

TEST(ParseInteger, TheLimitsOf64BitsAreExact) {
    EXPECT_EQ(*parse_integer("9223372036854775807", INT64_MIN, INT64_MAX), INT64_MAX);
    EXPECT_EQ(*parse_integer("-9223372036854775808", INT64_MIN, INT64_MAX, kSigned), INT64_MIN);
    EXPECT_EQ(*parse_integer("0x7fffffffffffffff", INT64_MIN, INT64_MAX, kSignedHex), INT64_MAX);
    for (const char* huge : {"9223372036854775808",
                             "-9223372036854775809",
                             "18446744073709551615",
                             "18446744073709551616",
                             "99999999999999999999999999",
                             "0x8000000000000000",
                             "0x10000000000000000"}) {
        EXPECT_EQ(refused(parse_integer(huge, INT64_MIN, INT64_MAX, kSignedHex), huge),
                  ParseError::OutOfRange)
            << huge;
    }
}

TEST(ParseInteger, RefusesValuesOutsideTheRange) {
    EXPECT_EQ(refused(parse_integer("0", 1, 65536), "0"), ParseError::OutOfRange);
    EXPECT_EQ(refused(parse_integer("65537", 1, 65536), "65537"), ParseError::OutOfRange);
    EXPECT_EQ(refused(parse_integer("-1", 0, 32767, kSigned), "-1"), ParseError::OutOfRange);
    EXPECT_EQ(
        refused(parse_integer("-9223372036854775808", LONG_MIN + 1, LONG_MAX, kSigned), "min"),
        ParseError::OutOfRange);
}

TEST(ParseInteger, RefusesEmptyTextWhitespaceAndStrayCharacters) {
    EXPECT_EQ(refused(parse_integer("", 0, 10, kSignedHex), ""), ParseError::Empty);
    for (const char* bad : {" 1",
                            "1 ",
                            "\t1",
                            "1\n",
                            "1 2",
                            "-",
                            "--1",
                            "- 1",
                            "1.5",
                            "1e3",
                            "1_000",
                            "1,000",
                            "abc",
                            "12q",
                            "1k"}) {
        EXPECT_EQ(refused(parse_integer(bad, INT64_MIN, INT64_MAX, kSignedHex), bad),
                  ParseError::NotANumber)
            << "'" << bad << "'";
    }
    // A NUL inside the text is a stray character too.
    EXPECT_EQ(refused(parse_integer(std::string_view("1\0", 2), 0, 10), "1\\0"),
              ParseError::NotANumber);
}

TEST(ParseSize, LetterSuffixesAreBinaryInAnyCase) {
    const auto size = [](std::string_view t) {
        return parse_size(t, kSizeLetters, k64TiB, kSignedHex);
    };
    EXPECT_EQ(*size("4096"), 4096U);
    EXPECT_EQ(*size("0"), 0U);
    EXPECT_EQ(*size("64k"), 65536U);
    EXPECT_EQ(*size("64K"), 65536U);
    EXPECT_EQ(*size("16m"), 16U << 20);
    EXPECT_EQ(*size("16M"), 16U << 20);
    EXPECT_EQ(*size("1g"), 1ULL << 30);
    EXPECT_EQ(*size("1G"), 1ULL << 30);
    EXPECT_EQ(*size("0x1000"), 4096U);
    EXPECT_EQ(*size("0x1k"), 1024U);
    EXPECT_EQ(*size("-0"), 0U);  // the integer grammar takes a sign; zero is not negative
    EXPECT_EQ(*size("-0k"), 0U);
}

TEST(ParseSize, TheMaximumIsExactAfterScaling) {
    const auto size = [](std::string_view t) {
        return parse_size(t, kSizeLetters, k64TiB, kSignedHex);
    };
    EXPECT_EQ(*size("70368744177664"), k64TiB);
    EXPECT_EQ(*size("65536G"), k64TiB);
    EXPECT_EQ(*size("67108864m"), k64TiB);
    for (const char* big : {"70368744177665",
                            "65537g",
                            "100000G",
                            "68719476737k",
                            "18014398509481985K",  // * 1024 wraps to 1024 in 64 bits
                            "18446744073709551616",
                            "99999999999999999999k",
                            "0xffffffffffffffff"}) {
        EXPECT_EQ(refused(size(big), big), ParseError::OutOfRange) << big;
    }
}

TEST(ParseSize, RefusesNegativeEmptyUnknownUnitsAndWhitespace) {
    const auto size = [](std::string_view t) {
        return parse_size(t, kSizeLetters, k64TiB, kSignedHex);
    };
    EXPECT_EQ(refused(size(""), ""), ParseError::Empty);
    for (const char* neg : {"-1", "-1k", "-0x10", "-99999999999999999999"}) {
        EXPECT_EQ(refused(size(neg), neg), ParseError::Negative) << neg;
    }
    for (const char* nan : {"k", "K", "-", "-k", "0x", "0xk", " 64k", "\t1", "+1", "x1", ".5k"}) {
        EXPECT_EQ(refused(size(nan), nan), ParseError::NotANumber) << "'" << nan << "'";
    }
    for (const char* unit :
         {"12q", "64kb", "64KiB", "1kk", "1t", "64 k", "64k ", "64\n", "1.5k", "00x1", "64B"}) {
        EXPECT_EQ(refused(size(unit), unit), ParseError::UnknownUnit) << "'" << unit << "'";
    }
}

TEST(ParseSize, ByteUnitsAreBinaryInAnyCaseAndDecimalOnly) {
    const auto size = [](std::string_view t) { return parse_size(t, kSizeBytes, k64MiB); };
    EXPECT_EQ(*size("64"), 64U);
    EXPECT_EQ(*size("16B"), 16U);
    EXPECT_EQ(*size("16b"), 16U);
    for (const char* k : {"4K", "4k", "4KB", "4kb", "4KiB", "4kib", "4KIB"}) {
        EXPECT_EQ(*size(k), 4096U) << k;
    }
    for (const char* m : {"1M", "1m", "1MB", "1mb", "1MiB", "1MIB"}) {
        EXPECT_EQ(*size(m), 1U << 20) << m;
    }
    EXPECT_EQ(*size("64MiB"), k64MiB);
    EXPECT_EQ(*size("65536K"), k64MiB);
    EXPECT_EQ(refused(size("65MiB"), "65MiB"), ParseError::OutOfRange);
    EXPECT_EQ(refused(size("65537K"), "65537K"), ParseError::OutOfRange);
    EXPECT_EQ(refused(size("18014398509481985K"), "wraps"), ParseError::OutOfRange);
    // No sign and no hex unless asked: "-5" and "+5" are not numbers, "0x40" is 0 in unit "x40".
    EXPECT_EQ(refused(size("-5"), "-5"), ParseError::NotANumber);
    EXPECT_EQ(refused(size("-18446744073709550592"), "wraps"), ParseError::NotANumber);
    EXPECT_EQ(refused(size("+5"), "+5"), ParseError::NotANumber);
    EXPECT_EQ(refused(size("0x40"), "0x40"), ParseError::UnknownUnit);
    for (const char* unit : {"1G", "1GB", "4 K", "64 ", "4KiBs", "4Ki", "1T"}) {
        EXPECT_EQ(refused(size(unit), unit), ParseError::UnknownUnit) << "'" << unit << "'";
    }
    EXPECT_EQ(refused(size(" 64"), " 64"), ParseError::NotANumber);
    EXPECT_EQ(refused(size(""), ""), ParseError::Empty);
}

TEST(ParseDuration, AcceptsEveryUnitAndBareSeconds) {
    EXPECT_EQ(*parse_duration("1.5s"), 1500ms);
    EXPECT_EQ(*parse_duration("250ms"), 250ms);
    EXPECT_EQ(*parse_duration("10us"), 10us);
    EXPECT_EQ(*parse_duration("100ns"), 100ns);
    EXPECT_EQ(*parse_duration("2m"), 120s);
    EXPECT_EQ(*parse_duration("2min"), 120s);
    EXPECT_EQ(*parse_duration("1h"), 3600s);
    EXPECT_EQ(*parse_duration("2"), 2s);
    EXPECT_EQ(*parse_duration("0.5"), 500ms);
    EXPECT_EQ(*parse_duration("00.5"), 500ms);
    EXPECT_EQ(*parse_duration("1."), 1s);
    EXPECT_EQ(*parse_duration("0"), 0ns);  // poll once
    EXPECT_EQ(*parse_duration("0ns"), 0ns);
    EXPECT_EQ(*parse_duration("1e3"), 1000s);
    EXPECT_EQ(*parse_duration("1E3ms"), 1s);
    EXPECT_EQ(*parse_duration("1e+2"), 100s);
    EXPECT_EQ(*parse_duration("1e-9"), 1ns);
    EXPECT_EQ(*parse_duration("1.e5"), 100000s);
}

TEST(ParseDuration, HugeValuesSaturateToForever) {  // A09
    for (const char* huge :
         {"1e30", "1e30s", "1e400", "99999999999h", "18446744073709551616s", "9223372037"}) {
        auto d = parse_duration(huge);
        ASSERT_TRUE(d) << huge;
        EXPECT_EQ(*d, std::chrono::nanoseconds::max()) << huge;
        EXPECT_TRUE(Deadline::after(*d).is_never()) << huge;
    }
}

TEST(ParseDuration, AValueTooSmallToRepresentIsZeroNotForever) {
    // from_chars says result_out_of_range for an underflow as for an overflow: "1e-400" waited
    // for ever where "1e-10" polls once.
    for (const char* tiny :
         {"1e-400", "1e-400s", "1e-400h", "0.000001e-320", "5E-999ms", "1e-99999999999999999999"}) {
        auto d = parse_duration(tiny);
        ASSERT_TRUE(d) << tiny;
        EXPECT_EQ(*d, 0ns) << tiny;
    }
    // A negative exponent can still leave a huge value.
    const std::string huge = "1" + std::string(400, '0') + "e-50";
    EXPECT_EQ(*parse_duration(huge), std::chrono::nanoseconds::max());
    EXPECT_EQ(*parse_duration("1e99999999999999999999"), std::chrono::nanoseconds::max());
}

TEST(ParseDuration, RefusesEmptyNegativeMalformedAndUnknownUnits) {
    EXPECT_EQ(refused(parse_duration(""), ""), ParseError::Empty);
    for (const char* neg : {"-1", "-0", "-0.5s", "-abc", "-"}) {
        EXPECT_EQ(refused(parse_duration(neg), neg), ParseError::Negative) << neg;
    }
    for (const char* nan :
         {"abc", ".", ".5", ".s", "s", "e5", "1.2.3s", "1..", " 1s", "+1s", "\t1"}) {
        EXPECT_EQ(refused(parse_duration(nan), nan), ParseError::NotANumber) << "'" << nan << "'";
    }
    // Units are lower case and exact; nothing may follow them, not even a blank.
    for (const char* unit : {"5parsecs",
                             "1 s",
                             "1s ",
                             "1S",
                             "1MS",
                             "1Ms",
                             "1sec",
                             "1d",
                             "0x10",
                             "1e",
                             "1e+",
                             "1e5.5",
                             "1k",
                             "1s\n"}) {
        EXPECT_EQ(refused(parse_duration(unit), unit), ParseError::UnknownUnit)
            << "'" << unit << "'";
    }
}

TEST(ParseError, EveryReasonHasAWording) {
    for (ParseError e : {ParseError::Empty,
                         ParseError::Negative,
                         ParseError::NotANumber,
                         ParseError::UnknownUnit,
                         ParseError::OutOfRange}) {
        EXPECT_FALSE(describe(e).empty());
    }
    EXPECT_EQ(describe(ParseError::NotANumber), "is not a number");
}

}  // namespace
}  // namespace ipckit
