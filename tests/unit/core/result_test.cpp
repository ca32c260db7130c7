// SPDX-License-Identifier: MIT
// Result<T> and Result<void> (include/ipckit/core/result.hpp): access, the monadic members on
// both sides, copies, moves and assignments between every pair of states, move-only values, and
// the IPCKIT_TRY / IPCKIT_TRY_ASSIGN macros.
#include "ipckit/core/result.hpp"

#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

Error busy() {
    return Error(std::errc::device_or_resource_busy, "lock", "/l", "held by pid 7");
}

/// Counts live instances, so a test sees every construction matched by one destruction.
struct Counted {
    static inline int live = 0;
    int v;
    explicit Counted(int value) : v(value) { ++live; }
    Counted(const Counted& o) : v(o.v) { ++live; }
    Counted(Counted&& o) noexcept : v(o.v) { ++live; }
    Counted& operator=(const Counted&) = default;
    Counted& operator=(Counted&&) noexcept = default;
    ~Counted() { --live; }
};

TEST(Result, HoldsValueOrError) {
    Result<int> ok = 42;
    ASSERT_TRUE(ok);
    EXPECT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, 42);
    EXPECT_EQ(ok.value_or(7), 42);

    Result<int> bad = Error(std::errc::timed_out, "wait");
    ASSERT_FALSE(bad);
    EXPECT_FALSE(bad.has_value());
    EXPECT_EQ(bad.value_or(7), 7);
    EXPECT_TRUE(bad.error() == std::errc::timed_out);

    Result<int> unexpected_bad = unexpected(busy());
    ASSERT_FALSE(unexpected_bad);
    EXPECT_EQ(unexpected_bad.error().object(), "/l");
}

TEST(Result, ArrowReachesTheValue) {
    Result<std::string> r = std::string("abc");
    EXPECT_EQ(r->size(), 3U);
    const Result<std::string>& c = r;
    EXPECT_EQ(c->size(), 3U);
    EXPECT_EQ(*c, "abc");
}

TEST(Result, ValueThrowsResultErrorCarryingTheError) {
    Result<int> bad = Error::from_errno(ENOENT, "shm_open", "/x");
    try {
        (void)bad.value();
        FAIL() << "value() did not throw";
    } catch (const ResultError& e) {
        EXPECT_EQ(e.error().op(), "shm_open");
        EXPECT_EQ(e.error().object(), "/x");
        EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
        EXPECT_NE(std::string(e.what()).find("shm_open /x: No such file or directory"),
                  std::string::npos);
    }
    const Result<int>& const_bad = bad;
    EXPECT_THROW((void)const_bad.value(), ResultError);
    EXPECT_THROW((void)Result<int>(busy()).value(), ResultError);
    // ResultError is a std::system_error: the edges may catch either.
    EXPECT_THROW((void)Result<int>(busy()).value(), std::system_error);

    Result<void> bad_void = Error::from_errno(EPIPE, "write", "pipe");
    try {
        bad_void.value();
        FAIL() << "value() did not throw";
    } catch (const ResultError& e) {
        EXPECT_EQ(e.code(), std::errc::broken_pipe);
        EXPECT_EQ(e.error().object(), "pipe");
    }
    Result<void> ok_void;
    EXPECT_NO_THROW(ok_void.value());
    EXPECT_EQ(Result<int>(3).value(), 3);
}

TEST(Result, MonadicOperationsChainAndShortCircuit) {
    auto doubled = Result<int>(21).and_then([](int v) { return Result<int>(v * 2); });
    EXPECT_EQ(*doubled, 42);
    auto text = Result<int>(5).transform([](int v) { return std::to_string(v); });
    EXPECT_EQ(*text, "5");
    bool called = false;
    auto skipped = Result<int>(Error(std::errc::io_error, "read")).and_then([&](int v) {
        called = true;
        return Result<int>(v);
    });
    EXPECT_FALSE(called);
    EXPECT_FALSE(skipped);
    auto recovered = Result<int>(Error(std::errc::io_error, "read")).or_else([](const Error&) {
        return Result<int>(0);
    });
    EXPECT_EQ(*recovered, 0);
}

TEST(Result, AndThenChangesTheTypeAndPassesTheErrorUnchanged) {
    auto named =
        Result<int>(7).and_then([](int v) { return Result<std::string>("#" + std::to_string(v)); });
    static_assert(std::is_same_v<decltype(named), Result<std::string>>);
    EXPECT_EQ(*named, "#7");

    // The function's own error comes out as is.
    auto refused = Result<int>(7).and_then([](int) { return Result<std::string>(busy()); });
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().detail(), "held by pid 7");

    bool called = false;
    auto passed = Result<int>(busy()).and_then([&](int) {
        called = true;
        return Result<std::string>("x");
    });
    EXPECT_FALSE(called);
    ASSERT_FALSE(passed);
    EXPECT_EQ(passed.error().message(), busy().message());
}

TEST(Result, TransformOnBothSides) {
    bool called = false;
    auto skipped = Result<int>(busy()).transform([&](int v) {
        called = true;
        return v + 1;
    });
    static_assert(std::is_same_v<decltype(skipped), Result<int>>);
    EXPECT_FALSE(called);
    ASSERT_FALSE(skipped);
    EXPECT_EQ(skipped.error().op(), "lock");

    // A function returning void gives a Result<void>.
    int seen = 0;
    auto done = Result<int>(4).transform([&](int v) { seen = v; });
    static_assert(std::is_same_v<decltype(done), Result<void>>);
    EXPECT_TRUE(done);
    EXPECT_EQ(seen, 4);
    auto not_done = Result<int>(busy()).transform([&](int v) { seen = v * 10; });
    EXPECT_FALSE(not_done);
    EXPECT_EQ(seen, 4);
    EXPECT_TRUE(not_done.error() == std::errc::device_or_resource_busy);
}

TEST(Result, OrElseOnBothSides) {
    bool called = false;
    auto kept = Result<int>(5).or_else([&](const Error&) {
        called = true;
        return Result<int>(0);
    });
    EXPECT_FALSE(called);
    EXPECT_EQ(*kept, 5);

    // The handler sees the error and may replace it with another.
    auto replaced = Result<int>(busy()).or_else(
        [](const Error& e) { return Result<int>(e.with_detail("try later")); });
    ASSERT_FALSE(replaced);
    EXPECT_EQ(replaced.error().detail(), "held by pid 7; try later");
}

TEST(Result, VoidMonadicOperationsOnBothSides) {
    int calls = 0;
    auto next = Result<void>().and_then([&] {
        ++calls;
        return Result<int>(1);
    });
    EXPECT_EQ(*next, 1);
    auto skipped = Result<void>(busy()).and_then([&] {
        ++calls;
        return Result<int>(2);
    });
    EXPECT_EQ(calls, 1);
    ASSERT_FALSE(skipped);
    EXPECT_EQ(skipped.error().object(), "/l");

    auto kept = Result<void>().or_else([&](const Error&) {
        ++calls;
        return Result<void>(busy());
    });
    EXPECT_TRUE(kept);
    EXPECT_EQ(calls, 1);
    auto recovered = Result<void>(busy()).or_else([&](const Error& e) {
        ++calls;
        EXPECT_EQ(e.op(), "lock");
        return Result<void>();
    });
    EXPECT_TRUE(recovered);
    EXPECT_EQ(calls, 2);
}

TEST(Result, MoveOnlyValues) {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
    std::unique_ptr<int> p = std::move(r).value();
    EXPECT_EQ(*p, 3);

    Result<std::unique_ptr<int>> a = std::make_unique<int>(1);
    Result<std::unique_ptr<int>> b = std::move(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(**b, 1);

    Result<std::unique_ptr<int>> e = busy();
    b = std::move(e);  // value <- error
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().object(), "/l");
    b = Result<std::unique_ptr<int>>(std::make_unique<int>(2));  // error <- value
    ASSERT_TRUE(b);
    EXPECT_EQ(**b, 2);
    b = Result<std::unique_ptr<int>>(std::make_unique<int>(5));  // value <- value
    EXPECT_EQ(**b, 5);

    auto plus = std::move(b).and_then([](std::unique_ptr<int> v) {
        *v += 1;
        return Result<std::unique_ptr<int>>(std::move(v));
    });
    EXPECT_EQ(**plus, 6);
    auto read = std::move(plus).transform([](std::unique_ptr<int> v) { return *v; });
    EXPECT_EQ(*read, 6);
    std::unique_ptr<int> out = *std::move(Result<std::unique_ptr<int>>(std::make_unique<int>(9)));
    EXPECT_EQ(*out, 9);
}

TEST(Result, CopyMoveAndAssignBetweenEveryPairOfStates) {
    {
        const Result<Counted> value(Counted(1));
        const Result<Counted> error(busy());
        // Copy construction of both states.
        Result<Counted> cv = value;
        Result<Counted> ce = error;
        EXPECT_EQ(cv->v, 1);
        EXPECT_EQ(ce.error().detail(), "held by pid 7");
        // Copy assignment: value <- value, value <- error, error <- error, error <- value.
        Result<Counted> t = Counted(2);
        t = value;
        EXPECT_EQ(t->v, 1);
        t = error;
        ASSERT_FALSE(t);
        t = error;
        EXPECT_EQ(t.error().object(), "/l");
        t = value;
        ASSERT_TRUE(t);
        EXPECT_EQ(t->v, 1);
        // Move assignment of the same four.
        t = Result<Counted>(Counted(3));
        EXPECT_EQ(t->v, 3);
        t = Result<Counted>(busy());
        ASSERT_FALSE(t);
        t = Result<Counted>(Error(std::errc::timed_out, "wait"));
        EXPECT_TRUE(t.error() == std::errc::timed_out);
        t = Result<Counted>(Counted(4));
        EXPECT_EQ(t->v, 4);
        // Self-assignment keeps the value.
        Result<Counted>& self = t;
        t = self;
        EXPECT_EQ(t->v, 4);
        t = std::move(self);
        EXPECT_EQ(t->v, 4);
    }
    EXPECT_EQ(Counted::live, 0);  // every value constructed was destroyed exactly once
}

TEST(Result, VoidResultsCopyAndMoveTheirError) {
    Result<void> ok;
    Result<void> bad = Error(std::errc::device_or_resource_busy, "lock", "/l");
    Result<void> copy = bad;
    ASSERT_FALSE(copy);
    EXPECT_EQ(copy.error().object(), "/l");
    copy = ok;
    EXPECT_TRUE(copy);
    copy = std::move(bad);
    ASSERT_FALSE(copy);
    EXPECT_TRUE(copy.error() == std::errc::device_or_resource_busy);
}

TEST(Result, VoidCopyAndMoveInAllFourCombinations) {
    const Result<void> ok;
    const Result<void> bad = busy();
    const Result<void> other = Error(std::errc::timed_out, "wait", "/w");

    // Construction.
    Result<void> c_ok = ok;
    Result<void> c_bad = bad;
    EXPECT_TRUE(c_ok);
    ASSERT_FALSE(c_bad);
    EXPECT_EQ(c_bad.error().detail(), "held by pid 7");
    Result<void> m_ok = std::move(c_ok);
    Result<void> m_bad = std::move(c_bad);
    EXPECT_TRUE(m_ok);
    ASSERT_FALSE(m_bad);
    EXPECT_EQ(m_bad.error().object(), "/l");

    // Copy assignment: ok <- ok, ok <- error, error <- error, error <- ok.
    Result<void> t;
    t = ok;
    EXPECT_TRUE(t);
    t = bad;
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().object(), "/l");
    t = other;
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().object(), "/w");
    t = ok;
    EXPECT_TRUE(t);

    // Move assignment: the same four.
    t = Result<void>();
    EXPECT_TRUE(t);
    t = Result<void>(busy());
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().op(), "lock");
    t = Result<void>(Error(std::errc::timed_out, "wait", "/w"));
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().op(), "wait");
    t = Result<void>();
    EXPECT_TRUE(t);

    // Self-assignment.
    Result<void> s = busy();
    Result<void>& self = s;
    s = self;
    s = std::move(self);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().object(), "/l");
}

Result<int> propagate(bool fail) {
    IPCKIT_TRY(fail ? Result<void>(Error(std::errc::device_or_resource_busy, "lock"))
                    : Result<void>());
    return 1;
}

TEST(Result, TryMacroPropagatesErrors) {
    EXPECT_EQ(*propagate(false), 1);
    EXPECT_TRUE(propagate(true).error() == std::errc::device_or_resource_busy);
}

Result<void> try_a_value(Result<std::string> in, int& evaluations) {
    // IPCKIT_TRY takes any Result: the value is dropped, the expression evaluated once.
    IPCKIT_TRY((++evaluations, std::move(in)));
    return {};
}

TEST(Result, TryAcceptsANonVoidResultAndEvaluatesItOnce) {
    int evaluations = 0;
    EXPECT_TRUE(try_a_value(std::string("x"), evaluations));
    EXPECT_EQ(evaluations, 1);
    auto failed = try_a_value(busy(), evaluations);
    EXPECT_EQ(evaluations, 2);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().message(), busy().message());  // object and detail kept
}

Result<std::string> twice(Result<std::string> in) {
    IPCKIT_TRY_ASSIGN(std::string text, std::move(in));
    IPCKIT_TRY_ASSIGN(text, Result<std::string>(text + text));
    return text;
}

TEST(Result, TryAssignMovesTheValueOrReturnsTheError) {
    EXPECT_EQ(*twice(std::string("ab")), "abab");
    EXPECT_TRUE(twice(Error(std::errc::no_such_file_or_directory, "open")).error() ==
                std::errc::no_such_file_or_directory);
}

Result<int> sum_of_moved(Result<std::unique_ptr<int>> a,
                         Result<std::unique_ptr<int>> b,
                         int& reached) {
    IPCKIT_TRY_ASSIGN(auto x, std::move(a));  // two on separate lines in one scope
    ++reached;
    IPCKIT_TRY_ASSIGN(const auto y, std::move(b));
    ++reached;
    return *x + *y;
}

TEST(Result, TryAssignTakesMoveOnlyValuesAndStopsAtTheFirstError) {
    int reached = 0;
    EXPECT_EQ(*sum_of_moved(std::make_unique<int>(2), std::make_unique<int>(3), reached), 5);
    EXPECT_EQ(reached, 2);
    reached = 0;
    auto first = sum_of_moved(busy(), std::make_unique<int>(3), reached);
    EXPECT_EQ(reached, 0);
    EXPECT_TRUE(first.error() == std::errc::device_or_resource_busy);
    auto second = sum_of_moved(std::make_unique<int>(2), Error(std::errc::timed_out, "w"), reached);
    EXPECT_EQ(reached, 1);
    EXPECT_TRUE(second.error() == std::errc::timed_out);
}

// Results carry the Error by value on every call; they stay small so returning one is cheap.
static_assert(sizeof(Result<void>) <= 40);
static_assert(std::is_nothrow_move_constructible_v<Result<void>>);
static_assert(std::is_nothrow_move_constructible_v<Result<int>>);
static_assert(!std::is_copy_constructible_v<Result<std::unique_ptr<int>>>);

}  // namespace
}  // namespace ipckit
