# `make bench` configures before pybind11 is installed (it installs only the bench's packages),
# `make test` configures again after: the second configure must add the Python package, so its
# tests run. Here pybind11 is hidden at the first configure (CMAKE_DISABLE_FIND_PACKAGE_pybind11)
# and found at the second.
set(tree ${BINARY_DIR}/python-auto-test)
file(REMOVE_RECURSE ${tree})

include(${CMAKE_CURRENT_LIST_DIR}/configure_tree.cmake)

configure(-DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_CXX_COMPILER=${CXX} -DIPCKIT_BUILD_TESTS=OFF
          -DIPCKIT_BUILD_EXAMPLES=OFF -DCMAKE_DISABLE_FIND_PACKAGE_pybind11=ON)
if(EXISTS ${tree}/python/CMakeFiles)
  message(FATAL_ERROR "the Python package was configured although pybind11 was hidden")
endif()
configure(-DCMAKE_DISABLE_FIND_PACKAGE_pybind11=OFF)
if(NOT EXISTS ${tree}/python/CMakeFiles)
  message(FATAL_ERROR "pybind11 is there now, but the second configure left the Python package out")
endif()
file(REMOVE_RECURSE ${tree})
