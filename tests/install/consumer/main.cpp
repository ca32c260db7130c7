// A program outside the ipckit tree, built against the installed package.
#include <cstdio>

#include "ipckit/core/posix_name.hpp"
#include "ipckit/version.hpp"

int main() {
    auto good = ipckit::PosixName::make("/consumer");
    auto bad = ipckit::PosixName::make("consumer");
    if (!good || bad) {
        return 1;
    }
    std::printf("ipckit %s: %s\n", ipckit::kVersion, bad.error().message().c_str());
    return 0;
}
