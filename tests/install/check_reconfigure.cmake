# Configuring a fresh build tree a second time must not change any compile command: `make bench`
# configures once, `make test` configures again, and a changed command recompiles what `make bench`
# already built (issue 20: 29 bench objects). Compares compile_commands.json after each configure.
set(tree ${BINARY_DIR}/reconfigure-test)
file(REMOVE_RECURSE ${tree})

include(${CMAKE_CURRENT_LIST_DIR}/configure_tree.cmake)

configure(-DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
          -DIPCKIT_BUILD_TESTS=OFF -DIPCKIT_BUILD_EXAMPLES=OFF)
file(READ ${tree}/compile_commands.json first)
configure()
file(READ ${tree}/compile_commands.json second)
if(NOT first STREQUAL second)
  file(WRITE ${tree}/first.json "${first}")
  execute_process(COMMAND diff ${tree}/first.json ${tree}/compile_commands.json OUTPUT_VARIABLE diff)
  message(FATAL_ERROR "the second configure changed compile commands:\n${diff}")
endif()
string(LENGTH "${first}" length)
if(length LESS 1000)
  message(FATAL_ERROR "compile_commands.json is nearly empty: ${first}")
endif()
file(REMOVE_RECURSE ${tree})
