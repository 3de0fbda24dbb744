// capsim-torch inspect and trace, run as a user runs them: output, files, exit codes, messages.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "capsim/trace/trace.hpp"

namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ZooCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("capsim_zoo_cli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliRun run(const std::string& args) {
    const std::string command = std::string(CAPSIM_TORCH_BIN) + " " + args + " >" +
                                (dir_ / "stdout").string() + " 2>" + (dir_ / "stderr").string();
    const int status = std::system(command.c_str());
    CliRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir_ / "stdout");
    r.err = slurp(dir_ / "stderr");
    return r;
  }

  fs::path dir_;
};

// fold-check: bad files and options stop with one message naming them, exit 2, before any
// data set is loaded.
TEST_F(ZooCli, FoldCheckBadInputsNameTheFileOrOption) {
  const std::string plan = (dir_ / "plan.yaml").string(), cal = (dir_ / "calibration.pt").string();
  {
    std::ofstream(plan)
        << "format: capsim-plan\nversion: 1\nname: p\nbits: 8\nlayers:\n  conv1: {channels: 32, k: 0}\n";
    std::ofstream(cal) << "not a calibration";
  }
  CliRun r = run("fold-check --model /nonexistent/model.pt --calibration " + cal + " --plan " + plan);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("plan.yaml"), std::string::npos) << r.err;
  std::ofstream(plan, std::ios::trunc)
      << "format: capsim-plan\nversion: 1\nname: p\nbits: 8\nlayers:\n  conv1: {channels: 32, k: 8}\n";
  r = run("fold-check --model /nonexistent/model.pt --calibration " + cal + " --plan " + plan);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("calibration.pt"), std::string::npos) << r.err;
  r = run("fold-check --model m --calibration " + cal + " --plan " + plan + " --precision float16");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--precision"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(ZooCli, InspectCsvEqualsTorchvisionGolden) {
  for (const char* model : {"resnet18", "mobilenetv2", "vgg16"}) {
    CliRun r = run(std::string("inspect --model ") + model + " --variant imagenet --input 3x224x224 --csv");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, slurp(std::string(CAPSIM_GOLDEN_DIR) + "/inspect/" + model + "_imagenet_3x224x224.csv"));
  }
}

TEST_F(ZooCli, InspectTableHasTotals) {
  CliRun r = run("inspect --model resnet18 --variant imagenet --input 3x224x224");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("11,689,512 parameters"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1,814,073,344 MACs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("layer2.0.downsample.0"), std::string::npos);
}

TEST_F(ZooCli, TraceWritesAValidCompressedTrace) {
  const auto out = dir_ / "sub" / "m.trace";
  CliRun r = run(
      "trace --model mobilenetv2 --variant cifar --input 1x32x32 --width 0.5 --plan uniform:0.25:6 --batch 8 "
      "--out " +
      out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  capsim::trace::Trace t = capsim::trace::read_trace(out.string());
  EXPECT_EQ(t.network.model, "mobilenetv2");
  EXPECT_EQ(t.network.variant, "cifar");
  EXPECT_EQ(t.network.batch, 8);
  EXPECT_EQ(t.network.width, 0.5);
  EXPECT_EQ(t.network.classes, 10);
  EXPECT_EQ(t.plan, "uniform:0.25:6");
  ASSERT_TRUE(t.layers.front().compression);
  EXPECT_EQ(t.layers.front().compression->bits, 6);
  EXPECT_FALSE(t.layers.back().compression);
}

TEST_F(ZooCli, BadInputExitsTwoWithAClearMessageAndNoFile) {
  struct Case {
    std::string args, fragment;
  };
  const std::string common = " --out " + (dir_ / "x.trace").string();
  const std::vector<Case> cases = {
      {"trace --model resnt18 --variant cifar --input 1x32x32", "did you mean 'resnet18'"},
      {"trace --model vgg16 --variant cifr --input 1x32x32", "--variant: key 'variant'"},
      {"trace --model vgg16 --variant cifar --input 1x32", "--input: key 'input'"},
      {"trace --model vgg16 --variant cifar --input 1x32x32 --width 0", "--width: key 'width'"},
      {"trace --model vgg16 --variant cifar --input 1x32x32 --width -0.5", "--width"},
      {"trace --model vgg16 --variant cifar --input 1x32x32 --classes 0", "--classes"},
      {"trace --model vgg16 --variant cifar --input 1x32x32 --batch 0", "--batch"},
      {"trace --model vgg16 --variant cifar --input 1x32x32 --plan uniform:2", "--plan"},
      {"trace --model vgg16 --variant cifar --input 1x32x32 --plan missing.yaml", "missing.yaml"},
      {"trace --model vgg16 --variant cifar --input 1x16x16", "too small"},
      {"trace --model vgg16 --variant imagenet --input 3x64x64", "adaptive pool 'avgpool'"},
      {"trace --model vgg16 --variant cifar", "--input"},
  };
  for (const Case& c : cases) {
    CliRun r = run(c.args + common);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.fragment), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "x.trace")) << c.args;
  }
  CliRun r = run("inspect --model vgg --variant cifar --input 1x32x32 --csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << "no partial table";
  EXPECT_NE(r.err.find("did you mean 'vgg16'"), std::string::npos) << r.err;
}

// A hardware objective's arguments are checked before the model or calibration is read.
TEST_F(ZooCli, PlanWithAHardwareObjectiveChecksItsArgumentsFirst) {
  const std::string common = " --model nowhere --calibration nowhere.pt --method greedy --value 2 --out " +
                             (dir_ / "p.yaml").string();
  const std::string arch = std::string(CAPSIM_SOURCE_DIR) + "/configs/arch/edge.yaml";
  struct Case {
    std::string args, fragment;
  };
  const std::vector<Case> cases = {
      {"plan --objective energy" + common, "--arch"},
      {"plan --objective dram_bytes --arch " + arch + " --input 3x224" + common, "--input"},
      {"plan --objective energy --arch " + arch + " --set buffer.capacity_kib=0" + common, "capacity_kib"},
      {"plan --objective energy --arch " + (dir_ / "missing.yaml").string() + common, "missing.yaml"},
  };
  for (const Case& c : cases) {
    CliRun r = run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.fragment), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.find("nowhere"), std::string::npos) << "checked before the model: " << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "p.yaml"));
  }
  CliRun r = run("plan --objective watts --arch " + arch + common);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("objective"), std::string::npos) << r.err;
}

// A damaged calibration (bytes overwritten inside a tensor, as a bad disk or a copy cut short
// leaves it) or a truncated one given to `capsim plan`: one error line naming the file, exit 2,
// no plan written. Before: the damaged file loaded (LibTorch's zip reader checks no CRC), and
// depending on where the bytes were, LibTorch failed later ("error: LibTorch: bincount only
// supports 1-d non-negative integral inputs.", exit 1, 8 bytes at offset 2000000) or, with the
// bytes this test overwrites, a plan was computed from the damaged basis and written, exit 0.
TEST_F(ZooCli, DamagedOrTruncatedCalibrationIsOneClearErrorAndNoPlan) {
  const std::string model = std::string(CAPSIM_SOURCE_DIR) + "/results/study/resnet18/train/model.pt";
  if (!fs::exists(model)) GTEST_SKIP() << model << " is not committed in this checkout";
  CliRun r =
      run("calibrate --model " + model + " --out " + (dir_ / "cal").string() + " --images-per-class 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string bytes = slurp(dir_ / "cal/calibration.pt");
  ASSERT_GT(bytes.size(), 1000000u);
  std::string damaged = bytes;
  const std::size_t at = bytes.size() * 707 / 1000;  // inside the basis of a late layer
  for (std::size_t i = at; i < at + 8; ++i) damaged[i] = '\xff';
  std::ofstream(dir_ / "damaged.pt", std::ios::binary) << damaged;
  std::ofstream(dir_ / "truncated.pt", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  for (const char* name : {"damaged.pt", "truncated.pt"}) {
    const std::string file = (dir_ / name).string();
    r = run("plan --model " + model + " --calibration " + file + " --method uniform --value 0.5 --out " +
            (dir_ / "p.yaml").string());
    EXPECT_EQ(r.exit_code, 2) << name << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: " + file + ": ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find("LibTorch"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "p.yaml")) << name;
    if (std::string(name) == "damaged.pt") {
      EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
    }
  }
}

// An output path naming a FIFO or a device: write_file_atomic's rename used to replace it with a
// regular file (exit 0), which for root turns /dev/null or /dev/full into a plain file. Now: one
// error line, exit 2, the special file untouched.
TEST_F(ZooCli, OutputPathThatIsAFifoOrADeviceIsRefusedAndLeftAlone) {
  const fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  CliRun r = run("trace --model resnet18 --variant cifar --input 1x32x32 --out " + fifo.string());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "error: " + fifo.string() +
                       ": exists and is not a regular file (a FIFO): expected a path for a new or existing "
                       "regular file\n");
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 3)
      << "fifo, stdout, stderr";
}

}  // namespace
