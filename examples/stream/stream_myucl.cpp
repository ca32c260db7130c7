// SPDX-License-Identifier: MIT
// Seed 003, Program 15.14: `myucl`, a filter that copies stdin to stdout in lower case, flushing
// at each newline so an interactive reader (Program 15.15) sees each line at once.
#include <cctype>
#include <cstdio>

int main() {
    for (int c = 0; (c = std::getchar()) != EOF;) {
        if (std::isupper(c) != 0) {
            c = std::tolower(c);
        }
        if (std::putchar(c) == EOF) {
            std::perror("output error");
            return 1;
        }
        if (c == '\n') {
            std::fflush(stdout);
        }
    }
    return 0;
}
