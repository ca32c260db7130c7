// SPDX-License-Identifier: MIT
// Seed 003, "Using FIFOs to Duplicate Output Streams":
//
//   mkfifo fifo1
//   prog3 < fifo1 &
//   prog1 < infile | tee fifo1 | prog2
//
// built with ipckit::Fifo, Pipe and Process instead of a shell. prog1 = `tr a-z A-Z`,
// prog2 = `cat -n`, prog3 = `wc -c`. prog3 opens fifo1 with the shell's blocking `<` (it waits
// for tee, as in the seed); everything else is argv, no shell.
//
//   example_stream_tee_fifo INFILE
#include <fcntl.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "ipckit/core/unique_fd.hpp"
#include "ipckit/stream/fifo.hpp"
#include "ipckit/stream/pipe.hpp"
#include "ipckit/stream/process.hpp"

using ipckit::Stdio;

int main(int argc, char* argv[]) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s INFILE\n", argv[0]);
        return 2;
    }
    ipckit::UniqueFd infile(::open(argv[1], O_RDONLY | O_CLOEXEC));
    if (!infile) {
        std::perror(argv[1]);
        return 1;
    }
    char tmpl[] = "/tmp/ipckit-example-tee-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const std::string dir = tmpl;
    int rc = 0;
    {
        auto fifo1 = ipckit::Fifo::create(dir + "/fifo1").value();  // mkfifo fifo1

        // prog3 < fifo1 &
        auto prog3 = ipckit::Process::shell("exec wc -c < \"$1\"", {fifo1.path()}, {.out = Stdio::pipe()}).value();

        // prog1 < infile | tee fifo1 | prog2
        auto p1 = ipckit::Pipe::create().value();
        auto p2 = ipckit::Pipe::create().value();
        auto prog1 = ipckit::Process::spawn({"tr", "a-z", "A-Z"},
                                            {.in = Stdio::fd(infile.get()), .out = Stdio::fd(p1.writer.native_handle())})
                         .value();
        p1.writer.close();  // only prog1 writes p1 now: tee sees end of file when prog1 ends
        auto tee = ipckit::Process::spawn({"tee", fifo1.path()},
                                          {.in = Stdio::fd(p1.reader.native_handle()),
                                           .out = Stdio::fd(p2.writer.native_handle())})
                       .value();
        p1.reader.close();
        p2.writer.close();
        auto prog2 = ipckit::Process::spawn({"cat", "-n"}, {.in = Stdio::fd(p2.reader.native_handle()), .out = Stdio::pipe()})
                         .value();
        p2.reader.close();

        const auto out2 = prog2.communicate({}, ipckit::Deadline::after(std::chrono::seconds(10))).value();
        const auto out3 = prog3.communicate({}, ipckit::Deadline::after(std::chrono::seconds(10))).value();
        for (auto* p : {&prog1, &tee}) {
            rc |= p->wait().value().success() ? 0 : 1;
        }
        rc |= (out2.status.success() && out3.status.success()) ? 0 : 1;
        std::printf("prog2 (cat -n):\n%s", out2.out.c_str());
        std::printf("prog3 (wc -c < fifo1): %s", out3.out.c_str());
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return rc;
}
