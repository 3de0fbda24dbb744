// capsim merge: shard directories of one sweep into one directory.
#include <cstdio>
#include <filesystem>

#include "capsim/common/error.hpp"
#include "capsim/sweep/aggregate.hpp"
#include "capsim/sweep/manifest.hpp"
#include "capsim/sweep/point_store.hpp"
#include "capsim/sweep/sweep.hpp"

namespace capsim::sweep {
namespace {

namespace fs = std::filesystem;

// Shards of one sweep have the same expanded point list: ids, keys and order.
void check_same_sweep(const Manifest& first, const std::string& first_dir, const Manifest& other,
                      const std::string& other_dir) {
  const std::string file = other_dir + "/manifest.json";
  const std::string hint =
      " than " + first_dir + " (merge takes shards of one sweep run with the same inputs)";
  if (other.points.size() != first.points.size())
    throw InputError({file, 0}, "a different sweep" + hint + ": " + std::to_string(other.points.size()) +
                                    " points instead of " + std::to_string(first.points.size()));
  for (std::size_t i = 0; i < first.points.size(); ++i) {
    const Point& a = first.points[i];
    const Point& b = other.points[i];
    if (a.id != b.id || a.key != b.key)
      throw InputError({file, 0}, "a different sweep" + hint + ": point " + std::to_string(i) + " is " +
                                      b.id + " (key " + b.key.substr(0, 12) + ") instead of " + a.id +
                                      " (key " + a.key.substr(0, 12) + ")");
  }
}

void copy_tree(const fs::path& from, const fs::path& to) {
  if (!fs::exists(from) || fs::equivalent(from.parent_path(), to.parent_path())) return;
  fs::create_directories(to);
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

// The best record of a point among the inputs: a finished one, else a failed one.
struct Source {
  std::string dir;
  PointState state = PointState::Missing;
};

Source best_source(const std::vector<std::string>& inputs, const Point& point) {
  Source best;
  for (const auto& dir : inputs) {
    const PointState state = point_status(dir, point).state;
    if (state == PointState::Finished) return {dir, state};
    if (state == PointState::Failed && best.state == PointState::Missing) best = {dir, state};
  }
  return best;
}

}  // namespace

int run_merge(const MergeOptions& options) {
  if (options.inputs.empty())
    throw InputError({"capsim merge", 0}, "name at least one sweep directory to merge");
  std::vector<Manifest> manifests;
  for (const auto& dir : options.inputs) {
    manifests.push_back(read_manifest(dir));
    check_same_sweep(manifests.front(), options.inputs.front(), manifests.back(), dir);
  }
  if (fs::exists(options.out + "/manifest.json"))
    check_same_sweep(manifests.front(), options.inputs.front(), read_manifest(options.out), options.out);
  fs::create_directories(options.out);
  DirectoryLock lock(options.out);
  clear_staging(options.out);
  const Manifest merged = unsharded(manifests.front());

  std::size_t copied = 0;
  for (const auto& point : merged.points) {
    const PointState present = point_status(options.out, point).state;
    if (present == PointState::Finished) continue;
    const Source source = best_source(options.inputs, point);
    if (source.state == PointState::Missing ||
        (source.state == PointState::Failed && present == PointState::Failed))
      continue;
    if (fs::equivalent(source.dir, options.out)) continue;
    const std::string staged = staging_dir(options.out, point.id);
    fs::remove_all(staged);
    fs::create_directories(fs::path(staged).parent_path());
    fs::copy(point_dir(source.dir, point.id), staged, fs::copy_options::recursive);
    install_point(options.out, point.id, staged);
    ++copied;
  }
  clear_staging(options.out);
  for (const auto& dir : options.inputs) {
    copy_tree(fs::path(dir) / "accuracy", fs::path(options.out) / "accuracy");
    copy_tree(fs::path(dir) / "traces", fs::path(options.out) / "traces");
  }
  write_manifest(options.out, merged);
  const AggregateSummary a = write_aggregates(options.out, merged);
  std::fprintf(stderr,
               "capsim merge: %zu points from %zu directories (%zu copied): %zu finished, %zu failed, "
               "%zu missing; wrote %s/points.csv, results.csv, manifest.json\n",
               merged.points.size(), options.inputs.size(), copied, a.finished, a.failed, a.missing,
               options.out.c_str());
  return a.failed || a.missing ? kExitIncomplete : 0;
}

}  // namespace capsim::sweep
