# HeapprofLeakCheck: run CTest tests under heapprof's leak check.
#
#   include(HeapprofLeakCheck)        # or find_package(heapprof), which includes it
#
#   heapprof_add_test(NAME name COMMAND program [args...]
#                     [SUPPRESSIONS file...] [FAIL_ON kinds] [OPTIONS heapprof-options...]
#                     [WORKING_DIRECTORY dir] [CONFIGURATIONS config...])
#     add_test() with COMMAND run as `heapprof --leak-check ... -- program args`: the test
#     fails when the program fails or leaks (FAIL_ON: definite,indirect,possible,reachable
#     or all; default definite,indirect). `program` may be an executable target's name.
#
#   heapprof_add_leak_check(TARGET target [SUPPRESSIONS file...] [FAIL_ON kinds]
#                           [OPTIONS heapprof-options...])
#     One line for tests that already exist: every add_test(NAME ... COMMAND target ...)
#     of that executable target runs under the leak check. It sets the target's
#     CROSSCOMPILING_EMULATOR, which CMake prepends to such tests (and to custom
#     commands that run the target: do not use it on a code generator).
#
# `ctest -T memcheck`: set MEMORYCHECK_TYPE to LeakSanitizer before include(CTest)
# (this module does it when MEMORYCHECK_TYPE is unset and CTest was not included yet).
# CTest then passes LSAN_OPTIONS=log_path=... to every test; the heapprof wrapper writes
# its leak report there in LeakSanitizer's format, so CTest counts one defect per leak
# record ("Direct leak" / "Indirect leak") and shows them in its summary and dashboard.
#
# HEAPPROF_EXECUTABLE (cache) is the wrapper; it is looked up next to this file's
# install location (lib/cmake/heapprof -> bin) and in PATH.

include_guard(GLOBAL)

if(NOT HEAPPROF_EXECUTABLE)
  get_filename_component(_heapprof_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
  find_program(HEAPPROF_EXECUTABLE heapprof HINTS "${_heapprof_prefix}/bin"
    DOC "the heapprof wrapper (heapprof --leak-check)")
  unset(_heapprof_prefix)
endif()

if(NOT DEFINED MEMORYCHECK_TYPE AND NOT DEFINED DART_TESTING_TIMEOUT)
  set(MEMORYCHECK_TYPE LeakSanitizer CACHE STRING
    "CTest memory checker; LeakSanitizer makes ctest -T memcheck read heapprof's reports")
endif()

function(_heapprof_launcher out)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "FAIL_ON" "SUPPRESSIONS;OPTIONS")
  if(NOT HEAPPROF_EXECUTABLE)
    message(FATAL_ERROR "heapprof: the heapprof wrapper was not found; set HEAPPROF_EXECUTABLE")
  endif()
  set(cmd "${HEAPPROF_EXECUTABLE}" --leak-check)
  foreach(f IN LISTS arg_SUPPRESSIONS)
    get_filename_component(f "${f}" ABSOLUTE)
    list(APPEND cmd --suppressions "${f}")
  endforeach()
  if(arg_FAIL_ON)
    string(REPLACE ";" "," kinds "${arg_FAIL_ON}")
    list(APPEND cmd "--fail-on-leaks=${kinds}")
  endif()
  list(APPEND cmd ${arg_OPTIONS} --)
  set(${out} "${cmd}" PARENT_SCOPE)
endfunction()

function(heapprof_add_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;FAIL_ON;WORKING_DIRECTORY"
    "COMMAND;SUPPRESSIONS;OPTIONS;CONFIGURATIONS")
  if(NOT arg_NAME OR NOT arg_COMMAND)
    message(FATAL_ERROR "heapprof_add_test: NAME and COMMAND are required")
  endif()
  _heapprof_launcher(launcher FAIL_ON "${arg_FAIL_ON}" SUPPRESSIONS ${arg_SUPPRESSIONS}
    OPTIONS ${arg_OPTIONS})
  list(GET arg_COMMAND 0 program)
  list(REMOVE_AT arg_COMMAND 0)
  if(TARGET ${program})
    set(program "$<TARGET_FILE:${program}>")
  endif()
  set(extra)
  if(arg_WORKING_DIRECTORY)
    list(APPEND extra WORKING_DIRECTORY "${arg_WORKING_DIRECTORY}")
  endif()
  if(arg_CONFIGURATIONS)
    list(APPEND extra CONFIGURATIONS ${arg_CONFIGURATIONS})
  endif()
  add_test(NAME ${arg_NAME} COMMAND ${launcher} "${program}" ${arg_COMMAND} ${extra})
endfunction()

function(heapprof_add_leak_check)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TARGET;FAIL_ON" "SUPPRESSIONS;OPTIONS")
  if(NOT TARGET "${arg_TARGET}")
    message(FATAL_ERROR "heapprof_add_leak_check: '${arg_TARGET}' is not a target")
  endif()
  _heapprof_launcher(launcher FAIL_ON "${arg_FAIL_ON}" SUPPRESSIONS ${arg_SUPPRESSIONS}
    OPTIONS ${arg_OPTIONS})
  set_property(TARGET ${arg_TARGET} PROPERTY CROSSCOMPILING_EMULATOR "${launcher}")
endfunction()
