// SPDX-License-Identifier: MIT
// The table `ipckit ls` prints, through libsmartcols (util-linux's table library, as lsipc):
// column choice, raw output, no headings, terminal-width fitting and escaped control characters.
#pragma once

#include "ipckit/admin/inventory.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace ipckit::cli {

struct LsTableOptions {
    /// Column names (-o): empty = the defaults; a list starting with "+" adds to the defaults.
    std::vector<std::string> columns;
    bool noheadings = false;
    bool raw = false;    ///< one line per object, cells separated by one space, blanks escaped
    bool bytes = false;  ///< SIZE in bytes, not 64.0K
    /// Fit into this many columns even when stdout is not a terminal (--width); else the
    /// terminal's width when stdout is one, and no fitting when it is not.
    std::optional<std::size_t> width;
};

/// The names of the columns -o accepts, with one line of help each (for --help).
std::string ls_columns_help();

/// The table: a header and one line per object. Control characters and invalid UTF-8 in any
/// cell are printed as \x hex escapes, so a name cannot split a line. An unknown column name is
/// errc::invalid_argument naming it and listing the known ones.
Result<std::string> render_ls_table(const std::vector<IpcObjectInfo>& objects,
                                    const LsTableOptions& options);

}  // namespace ipckit::cli
