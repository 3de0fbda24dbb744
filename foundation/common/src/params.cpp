#include "capsim/common/params.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include "capsim/common/yaml_view.hpp"

namespace capsim {

std::string to_string(ParamKind kind) {
  switch (kind) {
    case ParamKind::Integer:
      return "integer";
    case ParamKind::Number:
      return "number";
    case ParamKind::Boolean:
      return "boolean";
    case ParamKind::Choice:
      return "choice";
    case ParamKind::Text:
      return "text";
  }
  return "?";
}

namespace param_detail {

bool present(const YamlView& view, const std::string& key, bool required) {
  if (view.has(key)) return true;
  if (required) view.fail(key, "a value (the key is required)");
  return false;
}

std::int64_t read_integer(const YamlView& view, const std::string& key, std::int64_t min, std::int64_t max) {
  return view.integer(key, min, max);
}

double read_number(const YamlView& view, const std::string& key, double min, double max) {
  return view.number(key, min, max);
}

bool read_boolean(const YamlView& view, const std::string& key) { return view.boolean(key); }

std::string read_choice(const YamlView& view, const std::string& key, const std::vector<std::string>& names) {
  return view.choice(key, names);
}

std::string read_text(const YamlView& view, const std::string& key) { return view.string(key); }

bool has(const YamlView& view, const std::string& key) { return view.has(key); }

void fail(const YamlView& view, const std::string& key, const std::string& expected) {
  view.fail(key, expected);
}

void allow_keys(const YamlView& view, const std::vector<std::string>& keys) {
  view.require_map();
  view.allow_keys(keys);
}

void with_section(const YamlView& view, const std::string& name, bool required,
                  const std::function<void(const YamlView&)>& body) {
  if (auto sub = view.find(name)) {
    body(*sub);
  } else if (required) {
    view.fail(name, "a section (the key is required)");
  }
}

std::string format_integer(std::int64_t value) { return std::to_string(value); }

std::string format_number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, result.ptr);
  // YAML and JSON readers take "800" as an integer; keep the number a number.
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

std::string integer_range(std::int64_t min, std::int64_t max) {
  const auto bound = [](std::int64_t v) {
    if (v == std::numeric_limits<std::int64_t>::max()) return std::string("");
    if (v > 0 && (v & (v - 1)) == 0 && v >= (1 << 20))
      return fmt::format("2^{}", static_cast<int>(std::log2(v)));
    return std::to_string(v);
  };
  return bound(min) + ".." + bound(max);
}

std::string number_range(double min, double max) {
  const auto bound = [](double v) { return std::isinf(v) ? std::string("") : fmt::format("{}", v); };
  return bound(min) + ".." + bound(max);
}

std::string choice_range(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) text += (i ? ", `" : "`") + names[i] + "`";
  return text;
}

std::string join_key(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

}  // namespace param_detail

namespace {

// Markdown table cells must not break the row.
std::string cell(const std::string& text) {
  std::string out;
  for (char ch : text) out += ch == '|' ? std::string("\\|") : std::string(1, ch);
  return out;
}

std::string code_or_word(const std::string& text) {
  const bool prose = text.empty() || text == "required" || text.find_first_of("` ") != std::string::npos;
  return prose ? text : "`" + text + "`";
}

}  // namespace

std::string params_markdown(const std::vector<ParamRow>& rows) {
  std::string out =
      "| key | type | unit | default | valid | meaning | source of the default |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows)
    out += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} |\n", r.key, to_string(r.kind),
                       cell(r.info.unit), code_or_word(cell(r.default_text)), cell(r.range_text),
                       cell(r.info.description), cell(r.info.source));
  return out;
}

std::string params_yaml(const std::vector<ParamValue>& values, const std::vector<ParamRow>& rows) {
  std::map<std::string, std::string> unit_of;
  for (const auto& r : rows) unit_of[r.key] = r.info.unit;
  std::string out;
  std::vector<std::string> open;  // the mappings the last line sits in
  for (const auto& v : values) {
    std::vector<std::string> parts;
    for (std::size_t begin = 0;;) {
      const auto dot = v.key.find('.', begin);
      parts.push_back(v.key.substr(begin, dot - begin));
      if (dot == std::string::npos) break;
      begin = dot + 1;
    }
    std::size_t shared = 0;
    while (shared < open.size() && shared + 1 < parts.size() && open[shared] == parts[shared]) ++shared;
    open.resize(shared);
    for (; open.size() + 1 < parts.size(); open.push_back(parts[open.size()]))
      out += std::string(2 * open.size(), ' ') + parts[open.size()] + ":\n";
    std::string line = std::string(2 * open.size(), ' ') + parts.back() + ": " +
                       (v.kind == ParamKind::Text ? yaml_quote(v.text) : v.text);
    if (auto u = unit_of.find(v.key); u != unit_of.end() && !u->second.empty())
      line += std::string(line.size() < 40 ? 40 - line.size() : 1, ' ') + "# " + u->second;
    out += line + "\n";
  }
  return out;
}

}  // namespace capsim
