// The SystemC wrapper: two client threads (a load and a store DMA) block in DramModule::transfer
// and wake exactly when the plain model says their last data beat completes; a new run's book()
// (what the DMA calls) is the plain model shifted to the run's epoch. One TEST only: a
// process can elaborate one design.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <systemc>

#include "capsim/common/yaml_view.hpp"
#include "capsim/rtl/dram/dram_module.hpp"

namespace capsim::dram {
namespace {

constexpr std::uint64_t kStoreStartPs = 100'000;

struct Client : sc_core::sc_module {
  SC_HAS_PROCESS(Client);
  Client(sc_core::sc_module_name name, DramModule& dram) : sc_core::sc_module(name), dram_(dram) {
    SC_THREAD(load);
    SC_THREAD(store);
  }
  void load() {
    dram_.transfer(false, 0, 64 * 1024);
    load_done_ps = now_ps();
  }  // returns: no thread stays blocked at the end of the simulation
  void store() {
    wait(sc_core::sc_time(double(kStoreStartPs), sc_core::SC_PS));
    dram_.transfer(true, 1 << 20, 16 * 1024);
    store_done_ps = now_ps();
  }
  std::uint64_t load_done_ps = 0, store_done_ps = 0;

 private:
  DramModule& dram_;
};

TEST(DramModule, ThreadsWakeWhenThePlainModelSaysTheirDataIsDone) {
  const DramSpec spec = parse_dram_spec(
      YamlDocument::load_file(std::string(CAPSIM_SOURCE_DIR) + "/configs/dram/lpddr4-3200.yaml").root());
  DramTiming reference(spec);
  const std::uint64_t load_done = reference.transfer(false, 0, 64 * 1024, 0);
  const std::uint64_t store_done = reference.transfer(true, 1 << 20, 16 * 1024, kStoreStartPs);

  DramModule dram("dram", spec);
  Client client("client", dram);
  sc_core::sc_start();
  EXPECT_EQ(client.load_done_ps, load_done);
  EXPECT_EQ(client.store_done_ps, store_done);
  EXPECT_EQ(dram.timing().counts().write_bursts, 16u * 1024 / 32);

  // A new run: a fresh DRAM whose clock starts at the epoch; book() answers in simulation time
  // exactly what the plain model answers in run time.
  const std::uint64_t epoch = 7'000'000;
  dram.begin_run(epoch);
  EXPECT_EQ(dram.timing().counts().write_bursts, 0u);
  DramTiming fresh(spec);
  EXPECT_EQ(dram.book(false, 0, 64 * 1024, epoch), epoch + fresh.transfer(false, 0, 64 * 1024, 0));
  EXPECT_EQ(dram.book(true, 1 << 20, 4096, epoch + kStoreStartPs),
            epoch + fresh.transfer(true, 1 << 20, 4096, kStoreStartPs));
}

}  // namespace
}  // namespace capsim::dram
