# Runs PROGRAM under LD_PRELOAD=PRELOAD with LD_DEBUG=bindings and checks:
#  - the program prints "caught 100" and exits 0;
#  - _Unwind_RaiseException never binds to libunwind, and when MODE is "dynamic" it
#    binds at least once, always to libgcc_s.so.1.
# Usage: cmake -DPROGRAM=... -DPRELOAD=... -DMODE=dynamic|static -DWORKDIR=... -P check_binding.cmake
foreach(var PROGRAM PRELOAD MODE WORKDIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_binding: ${var} is not set")
  endif()
endforeach()
file(MAKE_DIRECTORY ${WORKDIR})
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=${PRELOAD} LD_DEBUG=bindings
          HEAPPROF_OUTPUT=${WORKDIR}/trace.%p.zst ${PROGRAM}
  WORKING_DIRECTORY ${WORKDIR}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_binding: ${PROGRAM} exited with ${rc}\nstdout: ${out}")
endif()
if(NOT out MATCHES "caught 100")
  message(FATAL_ERROR "check_binding: unexpected output: ${out}")
endif()
string(REGEX MATCHALL "[^\n]*`_Unwind_RaiseException'[^\n]*" lines "${err}")
list(LENGTH lines n)
foreach(line IN LISTS lines)
  if(line MATCHES "libunwind")
    message(FATAL_ERROR "check_binding: bound to libunwind: ${line}")
  endif()
  if(MODE STREQUAL "dynamic" AND NOT line MATCHES "to [^ ]*libgcc_s\\.so\\.1")
    message(FATAL_ERROR "check_binding: not bound to libgcc_s.so.1: ${line}")
  endif()
endforeach()
if(MODE STREQUAL "dynamic" AND n EQUAL 0)
  message(FATAL_ERROR "check_binding: no binding of _Unwind_RaiseException seen")
endif()
message(STATUS "check_binding: ${MODE}: ${n} binding(s) of _Unwind_RaiseException, none to libunwind")
