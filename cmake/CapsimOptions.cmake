# Compiler settings shared by every capsim target: link `capsim_options` (an INTERFACE target).
add_library(capsim_options INTERFACE)
target_compile_options(capsim_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter)
# SystemC 2.3.4 in Debian is built as C++17 and exports only that API version's symbol.
target_compile_definitions(capsim_options INTERFACE SC_CPLUSPLUS=201703L
                           CAPSIM_VERSION="${PROJECT_VERSION}")
if(CAPSIM_SANITIZE)
  target_compile_options(capsim_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined)
  target_link_options(capsim_options INTERFACE -fsanitize=address,undefined)
  # Lets a test skip what ASan cannot follow (see tests/sim/cli_test.cpp, FullOutput...).
  target_compile_definitions(capsim_options INTERFACE CAPSIM_SANITIZED=1)
endif()

# capsim_add_gtest(NAME SOURCES... LIBS ... [SYSTEMC])
#   One test executable; every TEST becomes its own ctest entry (gtest_discover_tests), which for
#   SystemC suites also means one process per test: a process can elaborate only once.
function(capsim_add_gtest name)
  cmake_parse_arguments(ARG "SYSTEMC" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock capsim_options)
  if(ARG_SYSTEMC)
    # libsystemc.so defines main() and calls sc_main(); tests/support/sc_gtest_main.cpp runs GoogleTest.
    target_sources(${name} PRIVATE ${CAPSIM_SOURCE_DIR}/tests/support/sc_gtest_main.cpp)
    target_link_libraries(${name} PRIVATE PkgConfig::SYSTEMC)
  else()
    target_link_libraries(${name} PRIVATE GTest::gtest_main)
  endif()
  set(labels ${ARG_LABELS})
  gtest_discover_tests(${name} WORKING_DIRECTORY ${CAPSIM_SOURCE_DIR}
                       PROPERTIES LABELS "${labels}" ENVIRONMENT "SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1"
                       DISCOVERY_TIMEOUT 60)
endfunction()
