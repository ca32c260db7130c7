# CPACK_PRE_BUILD_SCRIPTS: Debian's python3 modules live in /usr/lib/python3/dist-packages. The
# build tree installs the Python package for `cmake --install` (lib/python3.X/dist-packages under
# the prefix, python/CMakeLists.txt); in the staged .deb it is moved there.
file(GLOB versioned LIST_DIRECTORIES true "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/usr/lib/python3.*/dist-packages"
  "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/usr/lib/python3.*/dist-packages")
foreach(dir IN LISTS versioned)
  get_filename_component(lib "${dir}/../.." ABSOLUTE)
  file(MAKE_DIRECTORY "${lib}/python3")
  file(RENAME "${dir}" "${lib}/python3/dist-packages")
  get_filename_component(old "${dir}/.." ABSOLUTE)
  file(REMOVE_RECURSE "${old}")
endforeach()
