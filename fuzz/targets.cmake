# The fuzz targets and what they build against, shared by the libFuzzer executables
# (fuzz/CMakeLists.txt) and the regression replay test (tests/CMakeLists.txt).
# Each name is fuzz/<name>_fuzz.cpp, fuzz/corpus/<name>/ and fuzz/regressions/<name>/.
set(IPCKIT_FUZZ_TARGETS uri units frame fifo_reply channel)

# What the targets reach beyond the library: the CLI's renderer and parsers (tools/ipckit) and
# the bench engine's --sizes parser. object_view.cpp and ls_table.cpp (the ls table, through
# libsmartcols) are compiled from the CLI's own source; src/
# gives the channel's file layout (offsets only: the targets never write through it).
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
if(NOT TARGET ipckit_fuzz_common)
  if(NOT TARGET PkgConfig::smartcols)
    pkg_check_modules(smartcols REQUIRED IMPORTED_TARGET smartcols)
  endif()
  add_library(ipckit_fuzz_common STATIC ${PROJECT_SOURCE_DIR}/tools/ipckit/object_view.cpp
                                        ${PROJECT_SOURCE_DIR}/tools/ipckit/ls_table.cpp)
  target_include_directories(ipckit_fuzz_common
    PUBLIC ${PROJECT_SOURCE_DIR}/fuzz ${PROJECT_SOURCE_DIR}/tools/ipckit ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(ipckit_fuzz_common
    PUBLIC ipckit::ipckit ipckit_bench CLI11::CLI11 fmt::fmt nlohmann_json::nlohmann_json
    PRIVATE ipckit_warnings PkgConfig::smartcols)
endif()
