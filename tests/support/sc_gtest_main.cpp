// Entry point of every SystemC test binary. libsystemc.so owns main() and calls sc_main(); we run
// GoogleTest from here. ctest runs each TEST in its own process (gtest_discover_tests) because a
// SystemC process can elaborate a design only once.
#include <gtest/gtest.h>

#include <systemc>

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
