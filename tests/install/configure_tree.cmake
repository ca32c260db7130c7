# configure(ARGS...): configures SOURCE_DIR into ${tree} with GENERATOR (the caller sets `tree`);
# a failure ends the script with CMake's output. Shared by the check_*.cmake scripts that
# configure a scratch tree.
function(configure)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${tree} -G ${GENERATOR} ${ARGV}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configure failed (${rc})\n${out}\n${err}")
  endif()
endfunction()
