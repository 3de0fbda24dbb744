#pragma once
// Declared parameters. Every key of a spec section is declared once, beside the plain struct it
// fills: key, type, unit, valid range, description and the source of its default (the way gem5
// declares Params and Ramulator 2 its param<T>). From those declarations come the parsing (unknown
// keys rejected with a hint, ranges checked, errors naming file:line:key), the values echoed into
// run records and `capsim simulate --print-config`, and the key table of docs/architecture.md
// (`capsim params --markdown`; a test fails when the docs table is stale).
//
// Defaults live only in the struct's member initialisers: the documented default of a key is read
// off a default-constructed spec. This header sees YamlView only as a name, so block headers that
// declare their parameters do not pull in yaml-cpp.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace capsim {

class YamlView;

enum class ParamKind { Integer, Number, Boolean, Choice, Text };
std::string to_string(ParamKind kind);

// What a declaration says besides its key and range.
struct ParamInfo {
  std::string unit;         // "KiB", "cycles", "bits", "MHz", "bytes/cycle"; "" for counts and switches
  std::string description;  // what the key sets, one or two sentences
  std::string source;       // where its default comes from (a paper, a preset, a modelling choice)
};

// One documented key: a row of the key table.
struct ParamRow {
  std::string key;  // dotted from the spec's root: "buffer.banks"
  ParamKind kind = ParamKind::Text;
  std::string default_text;  // "required", or the default as it would be written in YAML
  std::string range_text;    // "1..1024", "`weight_stationary`, `output_stationary`", or ""
  ParamInfo info;
};

// One resolved value: what a run used (run records, --print-config).
struct ParamValue {
  std::string key;  // dotted from the spec's root; every key reads back through the same spec
  ParamKind kind = ParamKind::Text;
  std::string text;  // as YAML: 262144, 0.5, true, weight_stationary, "a name"
};

namespace param_detail {
// The reading primitives behind the typed declarations (params.cpp): each returns nothing when the
// key is absent and optional, and throws InputError naming file, line, key and the expectation for
// a missing required key or a bad value.
bool present(const YamlView& view, const std::string& key, bool required);
std::int64_t read_integer(const YamlView& view, const std::string& key, std::int64_t min, std::int64_t max);
double read_number(const YamlView& view, const std::string& key, double min, double max);
bool read_boolean(const YamlView& view, const std::string& key);
std::string read_choice(const YamlView& view, const std::string& key, const std::vector<std::string>& names);
std::string read_text(const YamlView& view, const std::string& key);
bool has(const YamlView& view, const std::string& key);
// Throws InputError naming file, line and key: "expected <expected>, got '<value>'".
[[noreturn]] void fail(const YamlView& view, const std::string& key, const std::string& expected);
void allow_keys(const YamlView& view, const std::vector<std::string>& keys);
// Calls `body` with the sub-mapping `name` of `view` when it is present (or fails when required).
void with_section(const YamlView& view, const std::string& name, bool required,
                  const std::function<void(const YamlView&)>& body);

std::string format_integer(std::int64_t value);
std::string format_number(double value);  // shortest text that reads back to the same double
std::string integer_range(std::int64_t min, std::int64_t max);
std::string number_range(double min, double max);
std::string choice_range(const std::vector<std::string>& names);
std::string join_key(const std::string& prefix, const std::string& key);
}  // namespace param_detail

// The declared keys of one spec struct, in the order they are documented.
template <class Spec>
class ParamSet {
 public:
  using Reader = std::function<void(const YamlView&, Spec&)>;
  using Shower = std::function<std::vector<ParamValue>(const Spec&)>;

  // Integer field (any integer type), checked against [min, max]. The field holds the value times
  // `scale` (a key in KiB filling a field in bytes: scale 1024); min and max are in the key's unit.
  template <class Int>
  ParamSet& integer(const std::string& key, Int Spec::*field, std::int64_t min, std::int64_t max,
                    ParamInfo info, bool required = false, std::int64_t scale = 1) {
    namespace d = param_detail;
    Entry e{
        key, {{key, ParamKind::Integer, "", d::integer_range(min, max), std::move(info)}}, required, {}, {}};
    e.read = [=](const YamlView& v, Spec& s) {
      if (d::present(v, key, required))
        s.*field = static_cast<Int>(d::read_integer(v, key, min, max) * scale);
    };
    e.show = [=](const Spec& s) {
      return std::vector<ParamValue>{
          {key, ParamKind::Integer, d::format_integer(static_cast<std::int64_t>(s.*field) / scale)}};
    };
    return add(std::move(e));
  }

  // An integer that becomes a bit field (of an address, of a bank index): a power of two in
  // [min, max]. `why` says why, in the error.
  template <class Int>
  ParamSet& power_of_two(const std::string& key, Int Spec::*field, std::int64_t min, std::int64_t max,
                         ParamInfo info, const std::string& why, bool required = false) {
    namespace d = param_detail;
    integer(key, field, min, max, std::move(info), required);
    Entry& e = entries_.back();
    e.rows.front().range_text = "power of two, " + e.rows.front().range_text;
    e.read = [key, field, why, read = e.read](const YamlView& v, Spec& s) {
      read(v, s);
      const auto value = static_cast<std::uint64_t>(s.*field);
      if (d::has(v, key) && (value & (value - 1)) != 0) d::fail(v, key, "a power of two (" + why + ")");
    };
    return *this;
  }

  ParamSet& number(const std::string& key, double Spec::*field, double min, double max, ParamInfo info,
                   bool required = false) {
    namespace d = param_detail;
    Entry e{
        key, {{key, ParamKind::Number, "", d::number_range(min, max), std::move(info)}}, required, {}, {}};
    e.read = [=](const YamlView& v, Spec& s) {
      if (d::present(v, key, required)) s.*field = d::read_number(v, key, min, max);
    };
    e.show = [=](const Spec& s) {
      return std::vector<ParamValue>{{key, ParamKind::Number, d::format_number(s.*field)}};
    };
    return add(std::move(e));
  }

  ParamSet& boolean(const std::string& key, bool Spec::*field, ParamInfo info) {
    namespace d = param_detail;
    Entry e{key, {{key, ParamKind::Boolean, "", "`true`, `false`", std::move(info)}}, false, {}, {}};
    e.read = [=](const YamlView& v, Spec& s) {
      if (d::present(v, key, false)) s.*field = d::read_boolean(v, key);
    };
    e.show = [=](const Spec& s) {
      return std::vector<ParamValue>{{key, ParamKind::Boolean, s.*field ? "true" : "false"}};
    };
    return add(std::move(e));
  }

  // An enumeration spelled by the words in `names` (the first pair of each value is its spelling).
  template <class Enum>
  ParamSet& choice(const std::string& key, Enum Spec::*field, std::vector<std::pair<std::string, Enum>> names,
                   ParamInfo info, bool required = false) {
    namespace d = param_detail;
    std::vector<std::string> words;
    words.reserve(names.size());
    for (const auto& n : names) words.push_back(n.first);
    Entry e{key, {{key, ParamKind::Choice, "", d::choice_range(words), std::move(info)}}, required, {}, {}};
    e.read = [=](const YamlView& v, Spec& s) {
      if (!d::present(v, key, required)) return;
      const std::string word = d::read_choice(v, key, words);
      for (const auto& n : names)
        if (n.first == word) s.*field = n.second;
    };
    e.show = [=](const Spec& s) {
      for (const auto& n : names)
        if (n.second == s.*field) return std::vector<ParamValue>{{key, ParamKind::Choice, n.first}};
      return std::vector<ParamValue>{{key, ParamKind::Choice, "?"}};
    };
    return add(std::move(e));
  }

  ParamSet& text(const std::string& key, std::string Spec::*field, ParamInfo info, bool required = false) {
    namespace d = param_detail;
    Entry e{key, {{key, ParamKind::Text, "", "", std::move(info)}}, required, {}, {}};
    e.read = [=](const YamlView& v, Spec& s) {
      if (d::present(v, key, required)) s.*field = d::read_text(v, key);
    };
    e.show = [=](const Spec& s) { return std::vector<ParamValue>{{key, ParamKind::Text, s.*field}}; };
    return add(std::move(e));
  }

  // A key with its own reading (alternative spellings, special words, files to resolve). `yaml_key`
  // is what the YAML mapping holds; `rows` document it (an empty default_text is filled from a
  // default-constructed spec); `show` gives the values that read back to the same spec.
  ParamSet& custom(const std::string& yaml_key, std::vector<ParamRow> rows, Reader read, Shower show,
                   bool required = false) {
    return add(Entry{yaml_key, std::move(rows), required, std::move(read), std::move(show)});
  }

  // A nested mapping `name` whose keys `params` declares, filling `Spec::*member`.
  template <class Sub>
  ParamSet& section(const std::string& name, Sub Spec::*member, const ParamSet<Sub>& params,
                    bool required = false) {
    namespace d = param_detail;
    std::vector<ParamRow> rows = params.rows();
    for (auto& r : rows) r.key = d::join_key(name, r.key);
    Entry e{name, std::move(rows), required, {}, {}};
    e.read = [=](const YamlView& v, Spec& s) {
      d::with_section(v, name, required, [&](const YamlView& sub) { params.read(sub, s.*member); });
    };
    e.show = [=](const Spec& s) {
      std::vector<ParamValue> values = params.values(s.*member);
      for (auto& value : values) value.key = d::join_key(name, value.key);
      return values;
    };
    return add(std::move(e));
  }

  // Documents the default of the key declared last in words, where it is not a constant of the
  // struct ("`rp`", "3/4 of `write_queue_depth`"); the check that fills it in is the caller's.
  ParamSet& default_text(const std::string& text) {
    entries_.back().rows.front().default_text = text;
    return *this;
  }

  // A check across keys, run after every key is read ("a power of two", "divides the capacity").
  ParamSet& check(Reader check) {
    checks_.push_back(std::move(check));
    return *this;
  }

  // Rejects undeclared keys, reads every declared one into `spec` (absent optional keys keep the
  // spec's value), then runs the checks.
  void read(const YamlView& view, Spec& spec) const {
    std::vector<std::string> keys;
    for (const auto& e : entries_) keys.push_back(e.yaml_key);
    param_detail::allow_keys(view, keys);
    for (const auto& e : entries_) e.read(view, spec);
    for (const auto& c : checks_) c(view, spec);
  }

  Spec parse(const YamlView& view) const {
    Spec spec;
    read(view, spec);
    return spec;
  }

  // The key table: every documented key with its default and range.
  std::vector<ParamRow> rows() const {
    std::vector<ParamRow> out;
    const Spec defaults{};
    for (const auto& e : entries_) {
      const std::vector<ParamValue> values = e.show(defaults);
      for (const auto& row : e.rows) {
        ParamRow r = row;
        if (r.default_text.empty()) r.default_text = e.required ? "required" : default_of(r.key, values);
        out.push_back(std::move(r));
      }
    }
    return out;
  }

  // Every value of `spec`, keys dotted from this set's root.
  std::vector<ParamValue> values(const Spec& spec) const {
    std::vector<ParamValue> out;
    for (const auto& e : entries_) {
      auto v = e.show(spec);
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  }

 private:
  struct Entry {
    std::string yaml_key;
    std::vector<ParamRow> rows;
    bool required = false;
    Reader read;
    Shower show;
  };

  ParamSet& add(Entry entry) {
    entries_.push_back(std::move(entry));
    return *this;
  }

  static std::string default_of(const std::string& key, const std::vector<ParamValue>& values) {
    for (const auto& v : values)
      if (v.key == key) return v.text;
    return "";
  }

  std::vector<Entry> entries_;
  std::vector<Reader> checks_;
};

// The key table as Markdown (docs/architecture.md holds it between generated-table markers).
std::string params_markdown(const std::vector<ParamRow>& rows);
// Dotted values as nested YAML with each key's unit as a comment (--print-config).
std::string params_yaml(const std::vector<ParamValue>& values, const std::vector<ParamRow>& rows);

}  // namespace capsim
