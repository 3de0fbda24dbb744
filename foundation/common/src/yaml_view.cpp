#include "capsim/common/yaml_view.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace capsim {
namespace {

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string render(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out << YAML::Flow << node;
  std::string text = out.c_str();
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

std::string quoted_list(const std::vector<std::string>& words) {
  std::string text;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) text += i + 1 == words.size() ? " or " : ", ";
    text += "'" + words[i] + "'";
  }
  return text;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& allowed) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : allowed) {
    std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string yaml_quote(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

// ---- YamlDocument ---------------------------------------------------------------------------

YamlDocument::YamlDocument(YAML::Node root, std::shared_ptr<YamlSource> source)
    : root_(root), source_(std::move(source)) {}  // YAML::Node copies are handles: no move

YamlDocument YamlDocument::parse(const std::string& text, const std::string& name) {
  auto source = std::make_shared<YamlSource>();
  source->file = name;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    return YamlDocument(root, source);
  } catch (const YAML::Exception& e) {
    throw InputError({name, e.mark.is_null() ? 0 : e.mark.line + 1}, "invalid YAML: " + e.msg);
  }
}

YamlDocument YamlDocument::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({path, 0}, "cannot open file (does it exist and is it readable?)");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

void YamlDocument::apply_override(const std::string& assignment) {
  const std::string origin = "--set " + assignment;
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError({origin, 0}, "expected KEY.PATH=VALUE (for example buffer.capacity_kib=512)");
  const std::string path = assignment.substr(0, eq);
  const std::string value_text = assignment.substr(eq + 1);

  std::vector<std::string> parts;
  std::stringstream stream(path);
  for (std::string part; std::getline(stream, part, '.');) {
    if (part.empty()) throw InputError({origin, 0}, "empty component in key path '" + path + "'");
    parts.push_back(part);
  }

  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::Exception&) {
    value = YAML::Node(value_text);
  }

  YAML::Node current;
  current.reset(root_);
  std::string walked;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    walked = join_path(walked, parts[i]);
    YAML::Node next = current[parts[i]];
    if (!next.IsDefined() || next.IsNull()) {
      current[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = current[parts[i]];
    } else if (!next.IsMap()) {
      throw InputError({origin, 0}, walked, "a section (mapping) on the way to '" + path + "'", render(next));
    }
    current.reset(next);
  }
  current[parts.back()] = value;
  source_->overrides[path] = origin;
}

YamlView YamlDocument::root() const { return YamlView(root_, source_, ""); }

// ---- YamlView -------------------------------------------------------------------------------

YamlView::YamlView(YAML::Node node, std::shared_ptr<const YamlSource> source, std::string path)
    : layers_{Layer{node, std::move(source), std::move(path)}} {}

YamlView YamlView::with_base(const YamlView& base) const {
  std::vector<Layer> layers = layers_;
  layers.insert(layers.end(), base.layers_.begin(), base.layers_.end());
  return YamlView(std::move(layers));
}

std::string YamlView::key_path(std::string_view key) const { return join_path(path(), key); }

SourceLocation YamlView::location() const {
  const Layer& layer = layers_.front();
  if (auto it = layer.source->overrides.find(layer.path); it != layer.source->overrides.end())
    return {it->second, 0};
  const auto mark = layer.node.Mark();
  return {layer.source->file, mark.is_null() ? 0 : mark.line + 1};
}

SourceLocation YamlView::location_of(std::string_view key) const {
  auto found = lookup(key);
  const Layer& layer = found ? *found->layer : layers_.front();
  const std::string full = join_path(layer.path, key);
  for (const auto& [path, origin] : layer.source->overrides)
    if (full == path || full.rfind(path + ".", 0) == 0) return {origin, 0};
  // Point at the key itself (a block value starts on the next line), else at the mapping.
  YAML::Mark mark = layer.node.Mark();
  if (found && found->layer->node.IsMap()) {
    for (const auto& entry : found->layer->node)
      if (entry.first.Scalar() == key) {
        mark = entry.first.Mark();
        break;
      }
  }
  return {layer.source->file, mark.is_null() ? 0 : mark.line + 1};
}

bool YamlView::is_map() const { return layers_.front().node.IsMap(); }

std::optional<YamlView::Found> YamlView::lookup(std::string_view key) const {
  const std::string k(key);
  for (const auto& layer : layers_) {
    if (!layer.node.IsMap()) continue;
    YAML::Node child = layer.node[k];
    if (child.IsDefined()) return Found{child, &layer};
  }
  return std::nullopt;
}

bool YamlView::has(std::string_view key) const {
  auto found = lookup(key);
  return found && !found->node.IsNull();
}

std::optional<YamlView> YamlView::find(std::string_view key) const {
  std::vector<Layer> layers;
  const std::string k(key);
  for (const auto& layer : layers_) {
    if (!layer.node.IsMap()) continue;
    YAML::Node child = layer.node[k];
    if (child.IsDefined() && !child.IsNull())
      layers.push_back(Layer{child, layer.source, join_path(layer.path, key)});
  }
  if (layers.empty()) return std::nullopt;
  return YamlView(std::move(layers));
}

YamlView YamlView::child(std::string_view key) const {
  auto view = find(key);
  if (!view) fail(key, "a value (the key is required)");
  return *view;
}

std::vector<std::string> YamlView::keys() const {
  std::vector<std::string> out;
  for (const auto& layer : layers_) {
    if (!layer.node.IsMap()) continue;
    for (const auto& entry : layer.node) {
      std::string k = entry.first.as<std::string>();
      if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
    }
  }
  return out;
}

void YamlView::require_map(std::string_view what) const {
  if (!is_map()) fail_here(std::string(what));
}

void YamlView::allow_keys(std::initializer_list<std::string_view> allowed) const {
  allow_keys(std::vector<std::string>(allowed.begin(), allowed.end()));
}

void YamlView::allow_keys(const std::vector<std::string>& allowed) const {
  require_map();
  for (const auto& key : keys()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = "key '" + key_path(key) + "': unknown key; expected one of " + quoted_list(allowed);
    if (auto hint = closest_match(key, allowed); !hint.empty()) message += " (did you mean '" + hint + "'?)";
    throw InputError(location_of(key), message);
  }
}

std::string YamlView::text_of(std::string_view key) const {
  auto found = lookup(key);
  return found ? render(found->node) : "nothing";
}

void YamlView::fail(std::string_view key, const std::string& expected) const {
  auto found = lookup(key);
  // Name the key as it is spelt where the value came from (a preset file or this view).
  const std::string full = found ? join_path(found->layer->path, key) : key_path(key);
  throw InputError(location_of(key), full, expected, found ? render(found->node) : "");
}

void YamlView::fail_here(const std::string& expected) const {
  throw InputError(location(), path().empty() ? "(document)" : path(), expected,
                   render(layers_.front().node));
}

YAML::Node YamlView::scalar(std::string_view key, const std::string& expected) const {
  auto found = lookup(key);
  if (!found || found->node.IsNull()) fail(key, expected + " (the key is required)");
  if (!found->node.IsScalar()) fail(key, expected);
  return found->node;
}

std::string YamlView::string(std::string_view key) const { return scalar(key, "a string").Scalar(); }

std::string YamlView::string_or(std::string_view key, const std::string& fallback) const {
  return has(key) ? string(key) : fallback;
}

std::string YamlView::choice(std::string_view key, const std::vector<std::string>& allowed) const {
  const std::string expected = "one of " + quoted_list(allowed);
  std::string value = scalar(key, expected).Scalar();
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) fail(key, expected);
  return value;
}

std::string YamlView::choice_or(std::string_view key, const std::vector<std::string>& allowed,
                                const std::string& fallback) const {
  return has(key) ? choice(key, allowed) : fallback;
}

std::int64_t YamlView::integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  std::string expected = "an integer";
  if (min == 1 && max == std::numeric_limits<std::int64_t>::max())
    expected = "a positive integer";
  else if (min == 0 && max == std::numeric_limits<std::int64_t>::max())
    expected = "a non-negative integer";
  else if (min != std::numeric_limits<std::int64_t>::min() || max != std::numeric_limits<std::int64_t>::max())
    expected = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  YAML::Node node = scalar(key, expected);
  std::int64_t value = 0;
  try {
    value = node.as<std::int64_t>();
  } catch (const YAML::Exception&) {
    fail(key, expected);
  }
  if (value < min || value > max) fail(key, expected);
  return value;
}

std::int64_t YamlView::integer_or(std::string_view key, std::int64_t fallback, std::int64_t min,
                                  std::int64_t max) const {
  return has(key) ? integer(key, min, max) : fallback;
}

double YamlView::number(std::string_view key, double min, double max) const {
  std::string expected = "a number";
  if (min == 0 && std::isinf(max))
    expected = "a non-negative number";
  else if (!std::isinf(min) || !std::isinf(max)) {
    std::ostringstream range;
    range << "a number in [" << min << ", " << max << "]";
    expected = range.str();
  }
  YAML::Node node = scalar(key, expected);
  double value = 0;
  try {
    value = node.as<double>();
  } catch (const YAML::Exception&) {
    fail(key, expected);
  }
  if (!std::isfinite(value) || value < min || value > max) fail(key, expected);
  return value;
}

double YamlView::number_or(std::string_view key, double fallback, double min, double max) const {
  return has(key) ? number(key, min, max) : fallback;
}

bool YamlView::boolean(std::string_view key) const {
  YAML::Node node = scalar(key, "true or false");
  try {
    return node.as<bool>();
  } catch (const YAML::Exception&) {
    fail(key, "true or false");
  }
}

bool YamlView::boolean_or(std::string_view key, bool fallback) const {
  return has(key) ? boolean(key) : fallback;
}

std::vector<std::int64_t> YamlView::integer_list(std::string_view key, std::size_t length,
                                                 std::int64_t min) const {
  std::string expected = length ? "a list of " + std::to_string(length) + " integers" : "a list of integers";
  if (min != std::numeric_limits<std::int64_t>::min()) expected += " >= " + std::to_string(min);
  auto found = lookup(key);
  if (!found || found->node.IsNull()) fail(key, expected + " (the key is required)");
  const YAML::Node& node = found->node;
  if (!node.IsSequence() || node.size() == 0 || (length && node.size() != length)) fail(key, expected);
  std::vector<std::int64_t> values;
  for (const auto& item : node) {
    try {
      values.push_back(item.as<std::int64_t>());
    } catch (const YAML::Exception&) {
      fail(key, expected);
    }
    if (values.back() < min) fail(key, expected);
  }
  return values;
}

std::vector<std::string> YamlView::string_list(std::string_view key) const {
  auto found = lookup(key);
  if (!found || found->node.IsNull()) fail(key, "a list of strings (the key is required)");
  if (!found->node.IsSequence()) fail(key, "a list of strings");
  std::vector<std::string> values;
  for (const auto& item : found->node) {
    if (!item.IsScalar()) fail(key, "a list of strings");
    values.push_back(item.Scalar());
  }
  return values;
}

std::vector<YamlView> YamlView::sequence(std::string_view key) const {
  auto found = lookup(key);
  if (!found || found->node.IsNull()) fail(key, "a list (the key is required)");
  if (!found->node.IsSequence()) fail(key, "a list");
  std::vector<YamlView> items;
  std::size_t index = 0;
  for (const auto& item : found->node)
    items.emplace_back(item, found->layer->source,
                       join_path(found->layer->path, key) + "[" + std::to_string(index++) + "]");
  return items;
}

}  // namespace capsim
