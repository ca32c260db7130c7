# Man pages, bash completion and the .deb packages (docs/design/packaging.md). Included at the end
# of the top-level CMakeLists.txt, after every install rule.

# ---- generated from the ipckit command itself, so they cannot drift from it
set(IPCKIT_COMPLETION ${PROJECT_BINARY_DIR}/completion/ipckit)
add_custom_command(OUTPUT ${IPCKIT_COMPLETION}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/completion
  COMMAND bash -c "\"$0\" completion bash > \"$1\"" $<TARGET_FILE:ipckit_cli> ${IPCKIT_COMPLETION}
  DEPENDS ipckit_cli VERBATIM COMMENT "bash completion from ipckit completion bash")
set(ipckit_docs ${IPCKIT_COMPLETION})
install(FILES ${IPCKIT_COMPLETION} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  COMPONENT tool)

# ipckit.1 and ipckit-SUB.1 for every subcommand, by help2man (scripts/packages.d/packaging.txt).
find_program(IPCKIT_HELP2MAN help2man)
set(IPCKIT_MAN_DIR ${PROJECT_BINARY_DIR}/man)
if(IPCKIT_HELP2MAN)
  add_custom_command(OUTPUT ${IPCKIT_MAN_DIR}/ipckit.1.gz
    COMMAND ${PROJECT_SOURCE_DIR}/packaging/make-man-pages.sh $<TARGET_FILE:ipckit_cli> ${IPCKIT_MAN_DIR}
            ${PROJECT_VERSION}
    DEPENDS ipckit_cli ${PROJECT_SOURCE_DIR}/packaging/make-man-pages.sh VERBATIM
    COMMENT "man pages from ipckit --help (help2man)")
  list(APPEND ipckit_docs ${IPCKIT_MAN_DIR}/ipckit.1.gz)
  install(DIRECTORY ${IPCKIT_MAN_DIR}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tool
    FILES_MATCHING PATTERN "*.1.gz")
else()
  message(STATUS "help2man not found: no man pages (scripts/setup.sh installs it)")
endif()
add_custom_target(ipckit_docs ALL DEPENDS ${ipckit_docs})

# ---- .deb packages: CPack, one package per install component (make deb)
set(IPCKIT_DEB_MAINTAINER "ipckit maintainers <ipckit@example.org>" CACHE STRING "Maintainer field of the .debs")
# Everything the packages hold, built by `make deb` before cpack (cpack itself builds nothing: the
# `all` target also holds the tests, which no package needs).
add_custom_target(ipckit_packaged DEPENDS ipckit ipckit_shared ipckit_cli ipckit_docs)
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(ipckit_components runtime dev tool)
# Python: python3-ipckit, from the module's install rules (COMPONENT python), moved to Debian's
# /usr/lib/python3/dist-packages (packaging/python-layout.cmake).
get_cmake_property(ipckit_install_components COMPONENTS)
if(TARGET ipckit_python AND python IN_LIST ipckit_install_components)
  list(APPEND ipckit_components python)
  add_dependencies(ipckit_packaged ipckit_python)
endif()

# Debian wants copyright and changelog.Debian.gz in /usr/share/doc/PACKAGE of every package.
set(ipckit_deb_doc ${PROJECT_BINARY_DIR}/deb-doc)
file(MAKE_DIRECTORY ${ipckit_deb_doc})
execute_process(COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/packaging/changelog
  OUTPUT_FILE ${ipckit_deb_doc}/changelog.Debian.gz)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libipckit0)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libipckit-dev)
set(CPACK_DEBIAN_TOOL_PACKAGE_NAME ipckit)
set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-ipckit)
foreach(component IN LISTS ipckit_components)
  string(TOUPPER ${component} upper)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/copyright ${ipckit_deb_doc}/changelog.Debian.gz
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${CPACK_DEBIAN_${upper}_PACKAGE_NAME} COMPONENT ${component})
  # The lintian tags each package is known to raise, each with its reason (docs/design/packaging.md).
  if(EXISTS ${PROJECT_SOURCE_DIR}/packaging/lintian/${CPACK_DEBIAN_${upper}_PACKAGE_NAME})
    install(FILES ${PROJECT_SOURCE_DIR}/packaging/lintian/${CPACK_DEBIAN_${upper}_PACKAGE_NAME}
      DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides COMPONENT ${component})
  endif()
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ipckit)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${IPCKIT_DEB_MAINTAINER})
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/deb)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL ${ipckit_components})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.org/ipckit")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # dpkg-shlibdeps (dpkg-dev) fills Depends: from the ELF files
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
  GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
# CPackDeb writes the first line as the synopsis and indents the rest; an empty line is " .".
# It prepends CPACK_PACKAGE_DESCRIPTION_SUMMARY unless that is CPack's default text: so it is, and
# each package's synopsis is its own first line.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CPACK_PACKAGE_NAME} built using CMake")
set(ipckit_deb_about "The whole classic UNIX IPC toolbox in one C++20 library: pipes, FIFOs, POSIX
and System V message queues and shared memory, semaphores, file locks, robust
mutexes, futexes, eventfd, sockets, descriptor passing, realtime signals, plus
a zero-copy shared-memory channel. Every call returns ipckit::Result<T>.")

set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "UNIX IPC toolbox for C++ (shared library)
${ipckit_deb_about}

This package holds the shared library libipckit.so.0.")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# libipckit0 declares the library it provides (DEBIAN/shlibs) and runs ldconfig through the
# ldconfig trigger, as Debian wants, not from postinst/postrm (CPack's default when none is given).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/libipckit0/triggers
  ${PROJECT_SOURCE_DIR}/packaging/libipckit0/postinst ${PROJECT_SOURCE_DIR}/packaging/libipckit0/postrm)

set(CPACK_DEBIAN_DEV_DESCRIPTION "UNIX IPC toolbox for C++ (development files)
${ipckit_deb_about}

This package holds the headers, the static library libipckit.a, the CMake
package (find_package(ipckit)) and the pkg-config file ipckit.pc.")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The static archive needs libnats at link time (ipckit.pc Libs.private, ipckitTargets.cmake).
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libipckit0 (= ${PROJECT_VERSION}-1), libnats-dev")

set(CPACK_DEBIAN_TOOL_DESCRIPTION "see, drive and measure every UNIX IPC facility
${ipckit_deb_about}

This package holds the ipckit command (ls, stat, rm, send, recv, sem, lock,
bench and more), its man pages and its bash completion.")
set(CPACK_DEBIAN_TOOL_PACKAGE_SECTION utils)

set(CPACK_DEBIAN_PYTHON_DESCRIPTION "UNIX IPC toolbox (Python 3 module)
${ipckit_deb_about}

This package holds the ipckit module for Python 3.")
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
# The extension is built for this interpreter's ABI (cpython-3XY): that python3 and no other.
if(Python3_VERSION_MAJOR AND Python3_VERSION_MINOR)
  math(EXPR ipckit_python_next "${Python3_VERSION_MINOR} + 1")
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS
    "python3 (>= ${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}~), python3 (<< ${Python3_VERSION_MAJOR}.${ipckit_python_next})")
endif()

# Stripped as dh_strip does (CPACK_STRIP_FILES would leave the archive's debug info and .comment).
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/packaging/python-layout.cmake
  ${PROJECT_SOURCE_DIR}/packaging/strip.cmake)

include(CPack)
