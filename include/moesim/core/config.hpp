#pragma once
// Run configuration: a Schema (each experiment declares its keys with defaults, types, ranges
// and a one-line doc) and a Config resolved from schema defaults, a TOML file and --set
// overrides, in that order. Every problem is a ConfigError naming file:line:column and key.
// Users: the app (parse, `config show`), every experiment (typed getters), io (/config).

#include "moesim/core/error.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace moesim::core {

/// The type of a config value. Integers are accepted where reals are expected.
enum class ValueKind { integer, real, boolean, string, integer_array, real_array, string_array };

/// A resolved config value.
using Value = std::variant<std::int64_t, double, bool, std::string, std::vector<std::int64_t>,
                           std::vector<double>, std::vector<std::string>>;

/// One key a schema accepts: "section.name", its kind, default, allowed range and doc.
struct KeySpec {
    std::string key; ///< dotted path, exactly one table deep: "mfld.n_particles"
    ValueKind kind = ValueKind::integer;
    Value default_value;
    std::optional<double> min;        ///< inclusive, for numbers and each array element
    std::optional<double> max;        ///< inclusive
    std::vector<std::string> choices; ///< allowed strings; empty means any
    std::size_t min_length = 0;       ///< for arrays
    std::string doc;                  ///< one line, shown by `moesim config show`
};

/// The keys one run accepts ([run] plus one experiment's table). Local.
class Schema {
public:
    Schema& integer(std::string key, std::int64_t default_value, std::int64_t min, std::int64_t max,
                    std::string doc);
    Schema& real(std::string key, double default_value, double min, double max, std::string doc);
    Schema& boolean(std::string key, bool default_value, std::string doc);
    Schema& string(std::string key, std::string default_value, std::vector<std::string> choices,
                   std::string doc);
    Schema& integer_array(std::string key, std::vector<std::int64_t> default_value,
                          std::int64_t min, std::int64_t max, std::size_t min_length,
                          std::string doc);
    Schema& real_array(std::string key, std::vector<double> default_value, double min, double max,
                       std::size_t min_length, std::string doc);
    /// An array of strings, each one of `choices` (empty: any), with no repeats.
    Schema& string_array(std::string key, std::vector<std::string> default_value,
                         std::vector<std::string> choices, std::size_t min_length, std::string doc);

    const std::vector<KeySpec>& keys() const noexcept { return keys_; }
    /// The spec of `key`, or nullptr.
    const KeySpec* find(std::string_view key) const;

    /// The defaults as a TOML document with a comment line per key giving its doc and range:
    /// what `moesim config show NAME` prints. Parses back to the defaults.
    std::string commented_defaults() const;

private:
    std::vector<KeySpec> keys_;
};

/// A fully resolved, validated configuration: every schema key has a value. Local.
class Config {
public:
    Config() = default;

    std::int64_t integer(std::string_view key) const;
    double real(std::string_view key) const;
    bool boolean(std::string_view key) const;
    const std::string& string(std::string_view key) const;
    const std::vector<std::int64_t>& integer_array(std::string_view key) const;
    const std::vector<double>& real_array(std::string_view key) const;
    const std::vector<std::string>& string_array(std::string_view key) const;

    /// The resolved config as TOML (tables in schema order), stored as /config in outputs.
    /// Parsing it back with the same schema gives the same Config.
    std::string to_toml() const;

    /// Where each key's value came from: "<default>", "file.toml:3:7" or "--set".
    const std::string& origin(std::string_view key) const;

    /// Keys (in schema order) whose values differ from `other`'s, or that only one of the two
    /// has. Used to refuse restarting a checkpoint with an incompatible config.
    std::vector<std::string> differing_keys(const Config& other) const;

private:
    friend Config resolve_config(const Schema&, std::optional<std::string_view>, std::string_view,
                                 std::span<const std::string>);
    const Value& at(std::string_view key) const;
    std::vector<std::string> key_order_; // schema order, for to_toml(); no tie to the Schema
    std::map<std::string, Value, std::less<>> values_;
    std::map<std::string, std::string, std::less<>> origins_;
};

/// Resolves a config: schema defaults, then `toml_text` (if given; `source_name` is the file
/// name used in messages), then each "section.key=value" in `set_overrides` (the value is
/// TOML; for a string key, text that is not a TOML string, such as a bare word, is taken
/// literally). Validates every key.
/// Throws ConfigError for: TOML syntax errors (with line:column), unknown keys or tables
/// (with line:column), wrong types, values out of range or not among the choices, and
/// malformed overrides (naming the --set text). Local, and deterministic: every rank that
/// resolves the same inputs gets the same result or the same error.
Config resolve_config(const Schema& schema, std::optional<std::string_view> toml_text,
                      std::string_view source_name, std::span<const std::string> set_overrides);

/// Reads one string key (e.g. "run.experiment") from TOML text and overrides without
/// validating anything else: used to pick the experiment, hence the schema, before
/// resolving. Returns nullopt if absent. Throws ConfigError on TOML syntax errors or if the
/// key is present but not a string.
std::optional<std::string> peek_string(std::optional<std::string_view> toml_text,
                                       std::string_view source_name,
                                       std::span<const std::string> set_overrides,
                                       std::string_view key);

} // namespace moesim::core
