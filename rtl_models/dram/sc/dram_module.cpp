#include "capsim/rtl/dram/dram_module.hpp"

namespace capsim::dram {

DramModule::DramModule(sc_core::sc_module_name name, const DramSpec& spec)
    : sc_core::sc_module(name), timing_(spec) {}

void DramModule::begin_run(std::uint64_t epoch_ps) {
  timing_ = DramTiming(timing_.spec());
  epoch_ps_ = epoch_ps;
}

std::uint64_t DramModule::book(bool is_write, std::uint64_t addr, std::uint64_t bytes,
                               std::uint64_t start_ps) {
  return timing_.transfer(is_write, addr, bytes, start_ps - epoch_ps_) + epoch_ps_;
}

void DramModule::transfer(bool is_write, std::uint64_t addr, std::uint64_t bytes) {
  const std::uint64_t start = now_ps();
  const std::uint64_t finish = book(is_write, addr, bytes, start);
  if (finish > start) wait(sc_core::sc_time(static_cast<double>(finish - start), sc_core::SC_PS));
}

}  // namespace capsim::dram
