# ipckit_warnings: the warning set every ipckit target compiles with (-Werror when IPCKIT_WERROR).
add_library(ipckit_warnings INTERFACE)
target_compile_options(ipckit_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Wformat=2 -Wimplicit-fallthrough
  $<$<BOOL:${IPCKIT_WERROR}>:-Werror>)
