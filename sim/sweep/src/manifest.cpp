#include "capsim/sweep/manifest.hpp"

#include <cstdio>
#include <filesystem>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"

namespace capsim::sweep {
namespace {

using json = nlohmann::ordered_json;

json point_json(const Point& p, const PreparedSweep& sweep, const std::vector<std::string>& axis_keys) {
  json axes = json::object();
  for (std::size_t i = 0; i < axis_keys.size(); ++i) axes[axis_keys[i]] = p.axis_values[i];
  const ResolvedWorkload& w = sweep.workloads[p.workload];
  return json{{"id", p.id},      {"key", p.key},     {"network", p.network},   {"plan", p.plan_label},
              {"axes", axes},    {"trace", w.trace}, {"plan_arg", p.plan_arg}, {"overrides", p.overrides},
              {"shard", p.shard}};
}

std::string first_line_of_command(const std::string& command) {
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[256];
    if (std::fgets(buffer, sizeof buffer, pipe)) out = buffer;
    ::pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

Manifest make_manifest(const PreparedSweep& sweep, std::optional<std::pair<int, int>> shard,
                       const std::vector<std::string>& accuracy_curves, const std::string& git_commit) {
  Manifest m;
  m.axis_keys = sweep.spec.axis_keys();
  m.points = sweep.points;
  if (shard) {
    m.shard_index = shard->first;
    m.shard_count = shard->second;
  }
  for (auto& p : m.points) p.shard = shard_of(p.index, m.shard_count);

  json fixed = json::object();
  for (const auto& axis : sweep.spec.fixed) fixed[axis.key] = axis.values[0].text;
  json files = json::array();
  for (const auto& f : sweep.files)
    files.push_back({{"role", f.role}, {"path", f.path}, {"sha256", f.sha256}});
  json points = json::array();
  for (const auto& p : m.points) points.push_back(point_json(p, sweep, m.axis_keys));

  json& j = m.json;
  j["format"] = "capsim-sweep-manifest";
  j["version"] = kManifestVersion;
  j["capsim_version"] = CAPSIM_VERSION;
  j["git_commit"] = git_commit;
  j["sweep"] = {{"name", sweep.spec.name}, {"file", sweep.spec.file}, {"sha256", sweep.spec_sha256}};
  j["arch"] = sweep.spec.arch;
  j["set"] = fixed;
  j["axes"] = m.axis_keys;
  j["shard"] = shard ? json{{"index", m.shard_index}, {"count", m.shard_count}} : json(nullptr);
  j["files"] = files;
  j["accuracy_curves"] = accuracy_curves;
  j["point_count"] = m.points.size();
  j["points"] = points;
  return m;
}

void write_manifest(const std::string& dir, const Manifest& manifest) {
  write_file_atomic(dir + "/manifest.json", manifest.json.dump(1) + "\n");
}

Manifest read_manifest(const std::string& dir) {
  const std::string file = dir + "/manifest.json";
  if (!std::filesystem::exists(file))
    throw InputError({file, 0}, "not a sweep directory: it has no manifest.json (written by capsim sweep)");
  Manifest m;
  try {
    m.json = json::parse(read_file(file));
    if (m.json.at("format") != "capsim-sweep-manifest")
      throw InputError({file, 0}, "format", "'capsim-sweep-manifest'", m.json.at("format").dump());
    if (m.json.at("version") != kManifestVersion)
      throw InputError({file, 0}, "version", std::to_string(kManifestVersion), m.json.at("version").dump());
    m.axis_keys = m.json.at("axes").get<std::vector<std::string>>();
    if (!m.json.at("shard").is_null()) {
      m.shard_index = m.json["shard"].at("index").get<int>();
      m.shard_count = m.json["shard"].at("count").get<int>();
    }
    for (const auto& pj : m.json.at("points")) {
      Point p;
      p.index = m.points.size();
      p.id = pj.at("id").get<std::string>();
      p.key = pj.at("key").get<std::string>();
      p.network = pj.at("network").get<std::string>();
      p.plan_label = pj.at("plan").get<std::string>();
      p.plan_arg = pj.at("plan_arg").get<std::string>();
      for (const auto& key : m.axis_keys) p.axis_values.push_back(pj.at("axes").at(key).get<std::string>());
      p.overrides = pj.at("overrides").get<std::vector<std::string>>();
      p.shard = pj.at("shard").get<int>();
      m.points.push_back(std::move(p));
    }
  } catch (const json::exception& e) {
    throw InputError({file, 0}, std::string("not a complete capsim sweep manifest: ") + e.what());
  }
  return m;
}

Manifest unsharded(const Manifest& manifest) {
  Manifest m = manifest;
  m.shard_index = 0;
  m.shard_count = 1;
  m.json["shard"] = nullptr;
  for (std::size_t i = 0; i < m.points.size(); ++i) {
    m.points[i].shard = 1;
    m.json["points"][i]["shard"] = 1;
  }
  return m;
}

std::string source_git_commit() {
  const std::string dir = CAPSIM_SOURCE_DIR_PATH;
  if (!std::filesystem::exists(dir + "/.git")) return "";
  const std::string git = "git -C '" + dir + "' ";
  std::string commit = first_line_of_command(git + "rev-parse HEAD 2>/dev/null");
  if (commit.empty()) return "";
  if (!first_line_of_command(git + "status --porcelain --untracked-files=no 2>/dev/null").empty())
    commit += "+dirty";
  return commit;
}

}  // namespace capsim::sweep
