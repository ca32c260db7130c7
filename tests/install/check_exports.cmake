# Checks libipckit.so's exported-symbols policy (docs/design/bindings.md): a SONAME, no ipckit
# internals (detail::, sys::, fault points) in the dynamic symbol table, and a sample of the public
# API present. Run as: cmake -DLIBRARY=<path to libipckit.so.0> -P check_exports.cmake
find_program(READELF readelf REQUIRED)
find_program(NM nm REQUIRED)
if(NOT EXISTS "${LIBRARY}")
  message(FATAL_ERROR "no shared library at '${LIBRARY}'")
endif()

execute_process(COMMAND ${READELF} -d ${LIBRARY} OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT dynamic MATCHES "\\(SONAME\\)[^\n]*\\[libipckit\\.so\\.0\\]")
  message(FATAL_ERROR "${LIBRARY}: no SONAME libipckit.so.0 in readelf -d:\n${dynamic}")
endif()

execute_process(COMMAND ${NM} -D --defined-only -C ${LIBRARY} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm -D failed on ${LIBRARY}")
endif()
string(REPLACE "\n" ";" lines "${symbols}")
set(leaks "")
set(count 0)
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  math(EXPR count "${count} + 1")
  # The symbol's own name (before its parameter list): a public function may take a detail type
  # (a private constructor of an exported class), but nothing named in detail:: or sys:: is exported.
  string(REGEX REPLACE "^[0-9a-f]* [A-Za-z] " "" name "${line}")
  string(REGEX REPLACE "\\(.*" "" name "${name}")
  # The exceptions are ABI: inline code in the public headers calls them (IPCKIT_ASSERT,
  # Region::as<T>, PosixShm's name lease, the members RecordLock/OfdLock inherit).
  # (std:: template instantiations are default-visible by libstdc++'s own pragma; not ours.)
  if(name MATCHES "ipckit::(sys|[a-z_]*detail)::|fault_point|g_fault_state" AND NOT name MATCHES
     "^ipckit::detail::(assert_fail|check_typed_range)$|^ipckit::detail::ShmNameLease::|^ipckit::detail::RangeLock<ipckit::(RecordLock|OfdLock),")
    string(APPEND leaks "  ${line}\n")
  endif()
endforeach()
if(leaks)
  message(FATAL_ERROR "${LIBRARY} exports ipckit internals:\n${leaks}")
endif()

# A sample of the public API, one or more per area (demangled name prefixes).
set(required
  "ipckit::Error::message[abi:cxx11]() const"
  "ipckit::PosixName::make("
  "ipckit::PosixMq::open("
  "ipckit::SysvMsgQueue::"
  "ipckit::PosixShm::"
  "ipckit::NamedSemaphore::"
  "ipckit::Socket::"
  "ipckit::Pipe::"
  "ipckit::SignalSet::"
  "ipckit::Channel::"
  "ipckit::Publisher::publish("
  "ipckit::Subscriber::"
  "ipckit::Uri::parse("
  "ipckit::Endpoint::open("
  "ipckit::Inventory::"
  "typeinfo for ipckit::ResultError")
set(missing "")
foreach(name IN LISTS required)
  string(FIND "${symbols}" " ${name}" at)
  if(at EQUAL -1)
    string(APPEND missing "  ${name}\n")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "${LIBRARY} does not export:\n${missing}")
endif()
message(STATUS "${LIBRARY}: SONAME libipckit.so.0, ${count} exported symbols, no internals")
