#pragma once
// Validated reading of YAML specs. Every accessor names the file, line and dotted key of a bad
// value and what was expected; unknown keys are rejected with a "did you mean" hint. Overrides
// given on the command line (--set a.b=v) are applied to the tree before validation and errors
// on them point at the --set argument instead of a file line.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capsim/common/error.hpp"

namespace capsim {

class YamlView;

// Per-document facts shared by all views into it.
struct YamlSource {
  std::string file;                              // as the user wrote it
  std::map<std::string, std::string> overrides;  // dotted key path -> "--set path=value"
};

class YamlDocument {
 public:
  // Throws InputError for a missing or unreadable file and for YAML syntax errors (with line).
  static YamlDocument load_file(const std::string& path);
  static YamlDocument parse(const std::string& text, const std::string& name);

  // Applies "a.b.c=value" (value parsed as YAML: numbers, lists, strings). Sections on the way
  // are created when missing; a scalar on the way is an error.
  void apply_override(const std::string& assignment);

  YamlView root() const;
  const std::string& file() const { return source_->file; }

 private:
  YamlDocument(YAML::Node root, std::shared_ptr<YamlSource> source);
  YAML::Node root_;
  std::shared_ptr<YamlSource> source_;
};

class YamlView {
 public:
  YamlView(YAML::Node node, std::shared_ptr<const YamlSource> source, std::string path);

  // Lookups fall back to `base` for keys this view lacks (a preset overridden by local keys).
  YamlView with_base(const YamlView& base) const;

  const std::string& path() const { return layers_.front().path; }
  std::string key_path(std::string_view key) const;  // "buffer.capacity_kib"
  SourceLocation location() const;
  SourceLocation location_of(std::string_view key) const;
  const std::string& file() const { return layers_.front().source->file; }

  bool is_map() const;
  bool has(std::string_view key) const;
  std::optional<YamlView> find(std::string_view key) const;
  YamlView child(std::string_view key) const;  // required
  std::vector<std::string> keys() const;       // union over layers, first layer first

  // Rejects every key not in `allowed`, naming the closest allowed one.
  void allow_keys(std::initializer_list<std::string_view> allowed) const;
  void allow_keys(const std::vector<std::string>& allowed) const;
  void require_map(std::string_view what = "a mapping of keys to values") const;

  std::string string(std::string_view key) const;
  std::string string_or(std::string_view key, const std::string& fallback) const;
  std::string choice(std::string_view key, const std::vector<std::string>& allowed) const;
  std::string choice_or(std::string_view key, const std::vector<std::string>& allowed,
                        const std::string& fallback) const;
  std::int64_t integer(std::string_view key, std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  std::int64_t integer_or(std::string_view key, std::int64_t fallback,
                          std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                          std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  double number(std::string_view key, double min = -std::numeric_limits<double>::infinity(),
                double max = std::numeric_limits<double>::infinity()) const;
  double number_or(std::string_view key, double fallback,
                   double min = -std::numeric_limits<double>::infinity(),
                   double max = std::numeric_limits<double>::infinity()) const;
  bool boolean(std::string_view key) const;
  bool boolean_or(std::string_view key, bool fallback) const;
  // A list of integers, each >= min; `length` 0 accepts any non-empty length.
  std::vector<std::int64_t> integer_list(std::string_view key, std::size_t length = 0,
                                         std::int64_t min = std::numeric_limits<std::int64_t>::min()) const;
  std::vector<std::string> string_list(std::string_view key) const;
  std::vector<YamlView> sequence(std::string_view key) const;  // items of a required list

  // The value at `key` rendered as text (for error messages).
  std::string text_of(std::string_view key) const;
  [[noreturn]] void fail(std::string_view key, const std::string& expected) const;
  [[noreturn]] void fail_here(const std::string& expected) const;

  const YAML::Node& node() const { return layers_.front().node; }

 private:
  struct Layer {
    YAML::Node node;
    std::shared_ptr<const YamlSource> source;
    std::string path;
  };
  struct Found {
    YAML::Node node;
    const Layer* layer;
  };
  explicit YamlView(std::vector<Layer> layers) : layers_(std::move(layers)) {}
  std::optional<Found> lookup(std::string_view key) const;
  YAML::Node scalar(std::string_view key, const std::string& expected) const;

  std::vector<Layer> layers_;
};

// `text` as a double-quoted YAML scalar (names may hold colons, spaces or quotes).
std::string yaml_quote(std::string_view text);

// The allowed word closest to `word` (edit distance), or "" when none is close.
std::string closest_match(std::string_view word, const std::vector<std::string>& allowed);

}  // namespace capsim
