# Runs ipckit_chaos --inject-loss over every facility and passes only if it exits 1 with every
# facility failing for the injected loss: proof that the soak's checks can fail.
# cmake -DCHAOS=path/to/ipckit_chaos -P expect_violation.cmake
execute_process(COMMAND ${CHAOS} --facility all --duration 0.5 --inject-loss
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 110)
message("${out}${err}")
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "expected exit code 1 (a violation), got '${rc}'")
endif()
foreach(f chan-block chan-overwrite posix-mq sysv-mq unix-dgram stream group group-amo)
  if(NOT out MATCHES "chaos: ${f} +FAIL[^\n]* lost_uncounted=[1-9]")
    message(FATAL_ERROR "${f}: the injected loss was not reported as an uncounted loss")
  endif()
endforeach()
foreach(f robust-mutex sem-undo)
  if(NOT out MATCHES "chaos: ${f} +FAIL")
    message(FATAL_ERROR "${f}: the injected half update was not reported")
  endif()
endforeach()
string(REGEX MATCHALL "times the pair was torn" torn "${out}")
list(LENGTH torn n)
if(n LESS 2)
  message(FATAL_ERROR "the lock facilities did not report the injected torn pair")
endif()
