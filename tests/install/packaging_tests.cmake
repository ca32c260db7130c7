# Packaging tests (docs/design/packaging.md), included from tests/CMakeLists.txt.

# A second configure changes no compile command (make test rebuilds nothing make bench built).
add_test(NAME install.reconfigure_stable
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DBINARY_DIR=${PROJECT_BINARY_DIR}
    -DGENERATOR=${CMAKE_GENERATOR} -DCXX=${CMAKE_CXX_COMPILER} -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
    -P ${CMAKE_CURRENT_LIST_DIR}/check_reconfigure.cmake)
set_tests_properties(install.reconfigure_stable PROPERTIES LABELS unit TIMEOUT 120)
