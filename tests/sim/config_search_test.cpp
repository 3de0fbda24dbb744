// Where DRAM presets and energy tables are found (docs/architecture.md): beside the arch file, in
// the project's configs, then on CAPSIM_CONFIG_PATH; and the error that lists every place.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "capsim/sim/arch_spec.hpp"
#include "input_error.hpp"
#include "run_command.hpp"

namespace capsim::sim {
namespace {

namespace fs = std::filesystem;
using capsim::testing::error_of;
using capsim::testing::read_text;
using capsim::testing::TempDir;
using capsim::testing::write_text;
using ::testing::HasSubstr;

const std::string kSource = CAPSIM_SOURCE_DIR;
const std::string kEdge = kSource + "/configs/arch/edge.yaml";

std::string normal(const std::string& path) { return fs::path(path).lexically_normal().string(); }

class ConfigSearch : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv("CAPSIM_CONFIG_PATH"); }
  void TearDown() override { unsetenv("CAPSIM_CONFIG_PATH"); }

  // edge.yaml copied to `relative` under the scratch directory; returns its path.
  std::string copy_edge(const std::string& relative) const {
    const std::string path = dir_ / relative;
    fs::create_directories(fs::path(path).parent_path());
    write_text(path, read_text(kEdge));
    return path;
  }
  // An energy table under the scratch directory (a valid one: the 7 nm table renamed).
  std::string write_table(const std::string& relative, const std::string& name) const {
    std::string text = read_text(kSource + "/configs/energy/7nm.yaml");
    text.replace(text.find("name: 7nm-jouppi"), 16, "name: " + name);
    const std::string path = dir_ / relative;
    fs::create_directories(fs::path(path).parent_path());
    write_text(path, text);
    return path;
  }
  TempDir dir_{"capsim_search"};
};

TEST_F(ConfigSearch, AnArchFileCopiedOutOfConfigsFindsTheProjectsPresets) {
  const ArchSpec spec = load_arch_spec(copy_edge("elsewhere/my-edge.yaml"), {"energy.table=16nm"});
  EXPECT_EQ(spec.dram_preset, normal(kSource + "/configs/dram/lpddr4-3200.yaml"));
  EXPECT_EQ(spec.energy_table, normal(kSource + "/configs/energy/16nm.yaml"));
}

TEST_F(ConfigSearch, PresetsBesideTheArchFileComeFirst) {
  const std::string arch = copy_edge("configs/arch/edge.yaml");
  const std::string mine = write_table("configs/energy/45nm.yaml", "mine");
  EXPECT_EQ(load_arch_spec(arch).energy_table, normal(mine));
  // Names it does not have still come from the project.
  EXPECT_EQ(load_arch_spec(arch, {"energy.table=7nm"}).energy_table,
            normal(kSource + "/configs/energy/7nm.yaml"));
}

TEST_F(ConfigSearch, CapsimConfigPathIsSearchedAfterTheProjectInItsOrder) {
  const std::string arch = copy_edge("elsewhere/edge.yaml");
  const std::string first = write_table("first/energy/custom.yaml", "first");
  write_table("second/energy/custom.yaml", "second");
  const std::string second_only = write_table("second/energy/other.yaml", "other");
  write_table("first/energy/45nm.yaml", "shadowed");
  ASSERT_EQ(setenv("CAPSIM_CONFIG_PATH",
                   (":" + (dir_ / "missing") + "::" + (dir_ / "first") + ":" + (dir_ / "second")).c_str(), 1),
            0);
  EXPECT_EQ(load_arch_spec(arch, {"energy.table=custom"}).energy_table, normal(first));
  EXPECT_EQ(load_arch_spec(arch, {"energy.table=other"}).energy_table, normal(second_only));
  EXPECT_EQ(load_arch_spec(arch).energy_table,
            normal(kSource + "/configs/energy/45nm.yaml"));  // project first
  // DRAM presets are searched the same way.
  fs::create_directories(dir_ / "second/dram");
  write_text(dir_ / "second/dram/my-lpddr4.yaml", read_text(kSource + "/configs/dram/lpddr4-3200.yaml"));
  EXPECT_EQ(load_arch_spec(arch, {"dram.preset=my-lpddr4"}).dram_preset,
            normal(dir_ / "second/dram/my-lpddr4.yaml"));
}

TEST_F(ConfigSearch, AnUnknownNameListsEveryPlaceLookedAtTheKeysLine) {
  const std::string arch = copy_edge("elsewhere/edge.yaml");
  ASSERT_EQ(setenv("CAPSIM_CONFIG_PATH", ((dir_ / "a") + ":" + (dir_ / "b")).c_str(), 1), 0);
  std::string text = read_text(arch);
  text.replace(text.find("table: 45nm"), 11, "table: 7mn ");
  write_text(arch, text);
  const std::string line = std::to_string(
      1 +
      std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(text.find("table: 7mn")), '\n'));
  const std::string error = error_of([&] { load_arch_spec(arch); });
  EXPECT_THAT(error,
              HasSubstr("edge.yaml:" + line +
                        ": key 'energy.table': expected an energy table name, a file 7mn.yaml in one of "));
  EXPECT_THAT(error, HasSubstr(normal(dir_ / "energy") + " (beside the arch file), "));
  EXPECT_THAT(error, HasSubstr(normal(kSource + "/configs/energy") + " (the project's configs), "));
  EXPECT_THAT(error,
              HasSubstr(normal(dir_ / "a/energy") + " (CAPSIM_CONFIG_PATH), " + normal(dir_ / "b/energy") +
                        " (CAPSIM_CONFIG_PATH); or a path ending in .yaml (did you mean '7nm'?), got '7mn'"));
  // An override is named by its --set, a DRAM preset by its kind.
  EXPECT_THAT(error_of([&] { load_arch_spec(arch, {"dram.preset=lpddr9"}); }),
              HasSubstr("--set dram.preset=lpddr9: key 'dram.preset': expected a DRAM preset name, a file "
                        "lpddr9.yaml in one of "));
  // A path is relative to the arch file and never searched.
  EXPECT_THAT(
      error_of([&] { load_arch_spec(arch, {"energy.table=7nm.yaml"}); }),
      HasSubstr("key 'energy.table': expected an energy table file " + normal(dir_ / "elsewhere/7nm.yaml") +
                " (a path ending in .yaml is relative to the arch file)"));
}

}  // namespace
}  // namespace capsim::sim
