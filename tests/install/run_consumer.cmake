# Installs ipckit into a scratch prefix, then builds and runs a consumer project against it via
# find_package(ipckit) (the static archive, then the shared library) and via pkg-config (C++ against
# the shared library; a C compile that fails if the .pc forces a C++ flag on C code).
set(prefix ${BINARY_DIR}/install-test/prefix)
set(build ${BINARY_DIR}/install-test/consumer)
file(REMOVE_RECURSE ${BINARY_DIR}/install-test)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
endfunction()

find_program(READELF readelf REQUIRED)
# needs_shared(PROGRAM YES|NO): whether PROGRAM has libipckit.so.0 as a NEEDED entry.
function(needs_shared program expected)
  execute_process(COMMAND ${READELF} -d ${program} OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
  if(dynamic MATCHES "\\(NEEDED\\)[^\n]*\\[libipckit\\.so\\.0\\]")
    set(found YES)
  else()
    set(found NO)
  endif()
  if(NOT rc EQUAL 0 OR NOT found STREQUAL expected)
    message(FATAL_ERROR "${program}: NEEDED libipckit.so.0 is ${found}, expected ${expected}\n${dynamic}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
foreach(file lib/libipckit.a lib/libipckit.so.0 include/ipckit/export.hpp)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()
# The loader must find the library from the prefix alone (no LD_LIBRARY_PATH from the caller).
unset(ENV{LD_LIBRARY_PATH})

# find_package: ipckit::ipckit (the static archive in this build), then ipckit::ipckit_shared.
foreach(target ipckit::ipckit ipckit::ipckit_shared)
  string(REPLACE "::" "_" dir ${target})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${build}/${dir} -G ${GENERATOR}
      -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix} -DIPCKIT_TARGET=${target})
  run(${CMAKE_COMMAND} --build ${build}/${dir})
  run(${build}/${dir}/consumer)  # the build tree's RUNPATH points into the prefix
endforeach()
needs_shared(${build}/ipckit_ipckit/consumer NO)
needs_shared(${build}/ipckit_ipckit_shared/consumer YES)

# pkg-config: compile the same program with the flags the .pc file gives (-lipckit: the .so).
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs ipckit OUTPUT_VARIABLE flags RESULT_VARIABLE rc
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config --cflags --libs ipckit failed")
  endif()
  if(flags MATCHES "-std=")
    message(FATAL_ERROR "ipckit.pc forces a language standard on its users: ${flags}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  # C++ consumers choose the standard themselves (the headers need C++20).
  run(${CXX} -std=c++20 ${SOURCE_DIR}/tests/install/consumer/main.cpp ${flags}
      -Wl,-rpath,${prefix}/lib -o ${build}/consumer_pc)
  needs_shared(${build}/consumer_pc YES)
  run(${build}/consumer_pc)
  # A C program compiled and linked with the same flags, warnings as errors.
  find_program(CC NAMES cc gcc)
  if(CC)
    file(WRITE ${build}/c_consumer.c "int main(void) { return 0; }\n")
    run(${CC} -std=c11 -Wall -Wextra -pedantic -Werror ${build}/c_consumer.c ${flags}
        -Wl,-rpath,${prefix}/lib -o ${build}/c_consumer)
    run(${build}/c_consumer)
  endif()
else()
  message(STATUS "pkg-config not installed; skipped the pkg-config half")
endif()
