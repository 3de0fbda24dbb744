#pragma once
// DIR/manifest.json: what a sweep directory holds. capsim version, git commit, the sweep file,
// hashes of every input file and the expanded point list (id, key, coordinates, the command's
// inputs). It is deterministic (no timestamps): shards of one sweep write the same point list,
// which is how `capsim merge` recognises them, and aggregation needs nothing but the manifest
// and the point directories.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capsim/sweep/points.hpp"

namespace capsim::sweep {

inline constexpr int kManifestVersion = 1;

struct Manifest {
  nlohmann::ordered_json json;  // as written
  std::vector<std::string> axis_keys;
  std::vector<Point> points;  // every point of the sweep, shard numbers filled in
  int shard_index = 0;        // 0: this directory is not a shard
  int shard_count = 1;

  // Whether this directory is responsible for the point (its shard, or every point).
  bool covers(const Point& point) const { return shard_index == 0 || point.shard == shard_index; }
};

// `accuracy_curves` are the curve files' paths inside the sweep directory.
Manifest make_manifest(const PreparedSweep& sweep, std::optional<std::pair<int, int>> shard,
                       const std::vector<std::string>& accuracy_curves, const std::string& git_commit);
void write_manifest(const std::string& dir, const Manifest& manifest);
// InputError naming the file when it is missing or not a capsim sweep manifest.
Manifest read_manifest(const std::string& dir);

// The same manifest without its shard (what `capsim merge` writes).
Manifest unsharded(const Manifest& manifest);

// `git rev-parse HEAD` of capsim's source tree, "+dirty" appended with uncommitted changes; "" when
// unknown (no git, or the executable was built elsewhere).
std::string source_git_commit();

}  // namespace capsim::sweep
