// SPDX-License-Identifier: MIT
// The requirement IDs the sources cite (F24, B05, D14, ...: comments in code, build files and
// docs) must each be defined in docs/requirements.md, once, and every ID defined there must
// still be cited somewhere. The catalogue they come from is not in the repository; this keeps the
// in-repo key complete.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

const fs::path kRoot = IPCKIT_SOURCE_DIR;
const char* const kKey = "docs/requirements.md";

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool is_ident(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

/// Every ID in `text` as a whole word, the catalogue's letter (A bad input, B faults, C load,
/// D security, F Linux facts) and one or two digits, with its offset. A plain scan, not
/// std::regex: it runs over the whole tree, in Debug and sanitizer builds too.
std::vector<std::pair<std::string, std::size_t>> find_ids(const std::string& t) {
    std::vector<std::pair<std::string, std::size_t>> ids;
    const auto digit = [&](std::size_t k) {
        return k < t.size() && std::isdigit(static_cast<unsigned char>(t[k])) != 0;
    };
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] < 'A' || t[i] > 'F' || (i > 0 && is_ident(t[i - 1])) || !digit(i + 1)) {
            continue;
        }
        const std::size_t end = digit(i + 2) ? i + 3 : i + 2;
        if (end < t.size() && is_ident(t[end])) {
            continue;
        }
        ids.emplace_back(t.substr(i, end - i), i);
    }
    return ids;
}

/// Names declared with `using NAME =` in C++ text.
std::vector<std::string> alias_names(const std::string& t) {
    std::vector<std::string> names;
    for (std::size_t at = t.find("using "); at != std::string::npos;
         at = t.find("using ", at + 1)) {
        if (at > 0 && is_ident(t[at - 1])) {
            continue;
        }
        std::size_t k = at + 6;
        while (k < t.size() && t[k] == ' ') {
            ++k;
        }
        const std::size_t begin = k;
        while (k < t.size() && is_ident(t[k])) {
            ++k;
        }
        const std::string name = t.substr(begin, k - begin);
        while (k < t.size() && t[k] == ' ') {
            ++k;
        }
        if (!name.empty() && k < t.size() && t[k] == '=') {
            names.push_back(name);
        }
    }
    return names;
}

/// The text of a C/C++ file with everything but its comments blanked (newlines kept, so
/// positions keep their line numbers). String, character and raw string literals are skipped: a
/// channel name in a test that happens to end in a letter and a digit is not a citation.
std::string cpp_comments(const std::string& t) {
    std::string out(t.size(), ' ');
    std::size_t i = 0;
    const auto keep_newlines = [&](std::size_t from, std::size_t to) {
        for (std::size_t k = from; k < to && k < t.size(); ++k) {
            if (t[k] == '\n') {
                out[k] = '\n';
            }
        }
    };
    while (i < t.size()) {
        const char c = t[i];
        const char next = i + 1 < t.size() ? t[i + 1] : '\0';
        if (c == '/' && next == '/') {
            const std::size_t end = std::min(t.find('\n', i), t.size());
            std::copy(t.begin() + static_cast<std::ptrdiff_t>(i),
                      t.begin() + static_cast<std::ptrdiff_t>(end),
                      out.begin() + static_cast<std::ptrdiff_t>(i));
            i = end;
        } else if (c == '/' && next == '*') {
            const std::size_t close = t.find("*/", i + 2);
            const std::size_t end = close == std::string::npos ? t.size() : close + 2;
            std::copy(t.begin() + static_cast<std::ptrdiff_t>(i),
                      t.begin() + static_cast<std::ptrdiff_t>(end),
                      out.begin() + static_cast<std::ptrdiff_t>(i));
            i = end;
        } else if (c == 'R' && next == '"' &&
                   (i == 0 || !is_ident(t[i - 1]) || t[i - 1] == '8' || t[i - 1] == 'u' ||
                    t[i - 1] == 'U' || t[i - 1] == 'L')) {
            const std::size_t open = t.find('(', i + 2);
            if (open == std::string::npos) {
                break;
            }
            const std::string close = ")" + t.substr(i + 2, open - i - 2) + "\"";
            const std::size_t at = t.find(close, open);
            const std::size_t end = at == std::string::npos ? t.size() : at + close.size();
            keep_newlines(i, end);
            i = end;
        } else if (c == '"' || (c == '\'' && (i == 0 || !is_ident(t[i - 1])))) {
            // A string or character literal (a ' after a digit is a digit separator: 1'000).
            std::size_t k = i + 1;
            while (k < t.size() && t[k] != c && t[k] != '\n') {
                k += t[k] == '\\' ? 2U : 1U;
            }
            i = k + 1;
        } else {
            if (c == '\n') {
                out[i] = '\n';
            }
            ++i;
        }
    }
    return out;
}

/// The text of a CMake, shell or Python file with everything but its '#' comments blanked.
std::string hash_comments(const std::string& t) {
    std::string out(t.size(), ' ');
    bool in_comment = false;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '\n') {
            in_comment = false;
            out[i] = '\n';
        } else if (t[i] == '#') {
            in_comment = true;
        }
        if (in_comment) {
            out[i] = t[i];
        }
    }
    return out;
}

struct Citation {
    std::string file;
    int line = 0;
};

/// Where the sources cite each ID. Names the code declares as types (the channel's `A32` and
/// `A64` atomics) look like IDs and are not citations.
std::map<std::string, std::vector<Citation>> citations() {
    std::map<std::string, std::vector<Citation>> found;
    std::set<std::string> type_names;
    std::vector<std::pair<std::string, std::string>> texts;  // file, comment text
    for (const char* dir : {"src",
                            "include",
                            "tests",
                            "tools",
                            "bench",
                            "docs",
                            "examples",
                            "fuzz",
                            "scripts",
                            "cmake"}) {
        if (!fs::exists(kRoot / dir)) {
            continue;
        }
        for (const auto& e : fs::recursive_directory_iterator(kRoot / dir)) {
            if (!e.is_regular_file()) {
                continue;
            }
            const auto rel = fs::relative(e.path(), kRoot).generic_string();
            const auto ext = e.path().extension().string();
            const auto name = e.path().filename().string();
            if (rel == kKey || rel.find("/corpus/") != std::string::npos ||
                rel.find("/regressions/") != std::string::npos) {
                continue;
            }
            const std::string text = read(e.path());
            if (ext == ".cpp" || ext == ".hpp" || ext == ".h" || ext == ".c" || ext == ".inc") {
                for (const auto& n : alias_names(text)) {
                    type_names.insert(n);
                }
                texts.emplace_back(rel, cpp_comments(text));
            } else if (ext == ".cmake" || ext == ".sh" || ext == ".py" ||
                       name == "CMakeLists.txt") {
                texts.emplace_back(rel, hash_comments(text));
            } else if (ext == ".md") {
                texts.emplace_back(rel, text);
            }
        }
    }
    for (const auto& [file, text] : texts) {
        for (const auto& [id, at] : find_ids(text)) {
            if (type_names.count(id) != 0) {
                continue;
            }
            const auto line =
                1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
            found[id].push_back({file, static_cast<int>(line)});
        }
    }
    return found;
}

/// The IDs docs/requirements.md defines: the first cell of its table rows ("| F24 | ...").
std::vector<std::string> defined_ids() {
    std::vector<std::string> ids;
    std::istringstream in(read(kRoot / kKey));
    const std::regex row(R"(^\|\s*([A-F][0-9]{1,2})\s*\|)");
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, row)) {
            ids.push_back(m[1].str());
        }
    }
    return ids;
}

TEST(RequirementIds, TheKeyExistsAndDefinesIds) {
    ASSERT_TRUE(fs::exists(kRoot / kKey)) << (kRoot / kKey);
    EXPECT_GT(defined_ids().size(), 50U);
    EXPECT_NE(read(kRoot / "docs/reliability.md").find("requirements.md"), std::string::npos)
        << "docs/reliability.md links the key";
}

TEST(RequirementIds, EveryCitedIdIsDefinedInDocsRequirements) {
    const auto defined = defined_ids();
    const std::set<std::string> known(defined.begin(), defined.end());
    std::ostringstream missing;
    for (const auto& [id, where] : citations()) {
        if (known.count(id) == 0) {
            missing << "  " << id << " cited at";
            for (const auto& c : where) {
                missing << " " << c.file << ":" << c.line;
            }
            missing << "\n";
        }
    }
    EXPECT_TRUE(missing.str().empty())
        << "IDs cited but not defined in " << kKey << " (add a line there, or drop the citation):\n"
        << missing.str();
}

TEST(RequirementIds, EachIdIsDefinedOnceAndStillCited) {
    const auto defined = defined_ids();
    const auto cited = citations();
    std::map<std::string, int> times;
    for (const auto& id : defined) {
        ++times[id];
    }
    for (const auto& [id, n] : times) {
        EXPECT_EQ(n, 1) << id << " is defined " << n << " times in " << kKey;
        EXPECT_EQ(cited.count(id), 1U) << id << " is defined in " << kKey
                                       << " but cited nowhere in the sources: remove its line";
    }
}

// The scanner itself: citations in comments count, strings, raw strings and type names do not.
TEST(RequirementIds, OnlyCommentsOfCodeAreScanned) {
    const std::string code =
        "auto s = \"chan:a-D9 F1\"; // F24 here\n"
        "char c = 'B'; int n = 1'000; /* B05\n and A03 */ auto r = R\"x(C04)x\";\n";
    const std::string comments = cpp_comments(code);
    std::set<std::string> ids;
    for (const auto& id : find_ids(comments)) {
        ids.insert(id.first);
    }
    EXPECT_EQ(ids, (std::set<std::string>{"A03", "B05", "F24"}));
    EXPECT_EQ(std::count(comments.begin(), comments.end(), '\n'), 3) << "lines are kept";
    EXPECT_EQ(hash_comments("set(X \"A03\") # C04\n"), std::string(13, ' ') + "# C04\n");
    std::vector<std::string> found;
    for (const auto& id : find_ids("F1, B05. xF2 F123 A3_ (D17) E9")) {
        found.push_back(id.first);
    }
    EXPECT_EQ(found, (std::vector<std::string>{"F1", "B05", "D17", "E9"}));
    EXPECT_EQ(alias_names("using A32 = std::atomic<int>; using namespace std; xusing B = 1;"),
              (std::vector<std::string>{"A32"}));
}

}  // namespace
