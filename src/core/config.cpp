#include "moesim/core/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>

namespace moesim::core {
namespace {

constexpr std::string_view default_origin = "<default>";
constexpr std::string_view set_source = "--set";

// ---------------------------------------------------------------------------------------------
// Names and kinds

std::string_view section_of(std::string_view key) {
    return key.substr(0, key.find('.'));
}
std::string_view name_of(std::string_view key) {
    return key.substr(key.find('.') + 1);
}

// TOML bare keys: what to_toml() and commented_defaults() can print without quoting.
bool is_bare_key(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

std::string_view kind_name(ValueKind kind) {
    switch (kind) {
    case ValueKind::integer:
        return "integer";
    case ValueKind::real:
        return "real";
    case ValueKind::boolean:
        return "boolean";
    case ValueKind::string:
        return "string";
    case ValueKind::integer_array:
        return "array of integers";
    case ValueKind::real_array:
        return "array of reals";
    case ValueKind::string_array:
        return "array of strings";
    }
    return "value";
}

ValueKind kind_of(const Value& value) {
    if (std::holds_alternative<std::int64_t>(value))
        return ValueKind::integer;
    if (std::holds_alternative<double>(value))
        return ValueKind::real;
    if (std::holds_alternative<bool>(value))
        return ValueKind::boolean;
    if (std::holds_alternative<std::string>(value))
        return ValueKind::string;
    if (std::holds_alternative<std::vector<std::int64_t>>(value))
        return ValueKind::integer_array;
    if (std::holds_alternative<std::vector<double>>(value))
        return ValueKind::real_array;
    return ValueKind::string_array;
}

/// Sections in order of first appearance among `keys`.
std::vector<std::string> sections_in_order(const std::vector<std::string>& keys) {
    std::vector<std::string> sections;
    for (const std::string& key : keys) {
        std::string section(section_of(key));
        if (std::find(sections.begin(), sections.end(), section) == sections.end())
            sections.push_back(std::move(section));
    }
    return sections;
}

std::vector<std::string> key_names(const Schema& schema) {
    std::vector<std::string> keys;
    keys.reserve(schema.keys().size());
    for (const KeySpec& spec : schema.keys())
        keys.push_back(spec.key);
    return keys;
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view space = " \t\r\n";
    const auto first = text.find_first_not_of(space);
    if (first == std::string_view::npos)
        return {};
    return text.substr(first, text.find_last_not_of(space) - first + 1);
}

// ---------------------------------------------------------------------------------------------
// Text checks and TOML formatting

/// Offset of the first byte that is not part of a valid UTF-8 sequence, or npos.
std::size_t invalid_utf8_offset(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t code = 0;
        if (lead < 0x80) {
            ++i;
            continue;
        } else if ((lead & 0xE0) == 0xC0) {
            length = 2;
            code = lead & 0x1F;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3;
            code = lead & 0x0F;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4;
            code = lead & 0x07;
        } else {
            return i;
        }
        if (i + length > text.size())
            return i;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80)
                return i;
            code = (code << 6) | (next & 0x3F);
        }
        constexpr std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return i;
        i += length;
    }
    return std::string_view::npos;
}

bool is_valid_utf8(std::string_view text) {
    return invalid_utf8_offset(text) == std::string_view::npos;
}

bool has_control_chars(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7F;
    });
}

/// A TOML basic string: quoted, with quotes, backslashes and control characters escaped.
std::string toml_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            if (const auto byte = static_cast<unsigned char>(c); byte < 0x20 || byte == 0x7F)
                out += fmt::format("\\u{:04X}", byte);
            else
                out += c;
        }
    }
    out += '"';
    return out;
}

/// Shortest text that parses back to exactly `value`, always a TOML float ("2.0", not "2").
std::string toml_real(double value) {
    std::string text = fmt::format("{}", value);
    if (text.find_first_of(".en") == std::string::npos) // "inf" and "nan" contain an 'n'
        text += ".0";
    return text;
}

template <class T, class Format>
std::string toml_array(const std::vector<T>& values, Format format) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0)
            out += ", ";
        out += format(values[i]);
    }
    return out + "]";
}

std::string toml_value(const Value& value) {
    switch (kind_of(value)) {
    case ValueKind::integer:
        return fmt::format("{}", std::get<std::int64_t>(value));
    case ValueKind::real:
        return toml_real(std::get<double>(value));
    case ValueKind::boolean:
        return std::get<bool>(value) ? "true" : "false";
    case ValueKind::string:
        return toml_string(std::get<std::string>(value));
    case ValueKind::integer_array:
        return toml_array(std::get<std::vector<std::int64_t>>(value),
                          [](std::int64_t v) { return fmt::format("{}", v); });
    case ValueKind::real_array:
        return toml_array(std::get<std::vector<double>>(value), toml_real);
    case ValueKind::string_array:
        return toml_array(std::get<std::vector<std::string>>(value),
                          [](const std::string& v) { return toml_string(v); });
    }
    return {};
}

/// What a parsed node is, for "expected X, got Y" messages: `string "abc"`, `float 3.0`.
std::string describe(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::string:
        return "string " + toml_string(node.as_string()->get());
    case toml::node_type::integer:
        return fmt::format("integer {}", node.as_integer()->get());
    case toml::node_type::floating_point:
        return "float " + toml_real(node.as_floating_point()->get());
    case toml::node_type::boolean:
        return node.as_boolean()->get() ? "boolean true" : "boolean false";
    case toml::node_type::array:
        return "array";
    case toml::node_type::table:
        return "table";
    case toml::node_type::date: {
        std::ostringstream text;
        text << "date " << node.as_date()->get();
        return text.str();
    }
    case toml::node_type::time: {
        std::ostringstream text;
        text << "time " << node.as_time()->get();
        return text.str();
    }
    case toml::node_type::date_time: {
        std::ostringstream text;
        text << "date-time " << node.as_date_time()->get();
        return text.str();
    }
    case toml::node_type::none:
        break;
    }
    return "nothing";
}

// ---------------------------------------------------------------------------------------------
// Suggestions

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

/// The candidate closest to `word` if it is a plausible typo (2 edits, 3 for long names);
/// ties go to the earliest candidate, so the suggestion follows schema order.
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
    const std::size_t limit = word.size() >= 8 ? 3 : 2;
    std::optional<std::string> best;
    std::size_t best_distance = limit + 1;
    for (const std::string& candidate : candidates) {
        const std::size_t distance = edit_distance(word, candidate);
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

std::string known_tables(const std::vector<std::string>& sections) {
    std::string out;
    for (const std::string& section : sections)
        out += (out.empty() ? "[" : ", [") + section + "]";
    return out;
}

/// " did you mean 'x'?" for an unknown key in `section`: a near name in the same section,
/// else the same name in another section.
std::string key_suggestion(const Schema& schema, std::string_view section, std::string_view name) {
    std::vector<std::string> names_in_section;
    for (const KeySpec& spec : schema.keys()) {
        if (section_of(spec.key) == section)
            names_in_section.emplace_back(name_of(spec.key));
    }
    if (auto near = closest(name, names_in_section))
        return fmt::format("; did you mean '{}'?", *near);
    for (const KeySpec& spec : schema.keys()) {
        if (name_of(spec.key) == name)
            return fmt::format("; did you mean '{}'?", spec.key);
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// Range and choice checks: shared by schema construction (defaults) and resolution

/// An integer bound stored as double in KeySpec, back as int64 (saturating).
std::int64_t integer_bound(const std::optional<double>& bound, std::int64_t otherwise) {
    constexpr double two_to_63 = 9223372036854775808.0;
    if (!bound)
        return otherwise;
    if (*bound >= two_to_63)
        return std::numeric_limits<std::int64_t>::max();
    if (*bound <= -two_to_63)
        return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(*bound);
}

std::optional<std::string> integer_problem(const KeySpec& spec, std::int64_t value) {
    const std::int64_t min = integer_bound(spec.min, std::numeric_limits<std::int64_t>::min());
    const std::int64_t max = integer_bound(spec.max, std::numeric_limits<std::int64_t>::max());
    if (value < min || value > max)
        return fmt::format("value {} is out of range [{}, {}]", value, min, max);
    return std::nullopt;
}

std::optional<std::string> real_problem(const KeySpec& spec, double value) {
    const double min = spec.min.value_or(-std::numeric_limits<double>::infinity());
    const double max = spec.max.value_or(std::numeric_limits<double>::infinity());
    if (std::isnan(value) || value < min || value > max)
        return fmt::format("value {} is out of range [{}, {}]", toml_real(value), min, max);
    return std::nullopt;
}

std::optional<std::string> string_problem(const KeySpec& spec, const std::string& value) {
    if (!is_valid_utf8(value))
        return std::string("value is not valid UTF-8");
    if (!spec.choices.empty() &&
        std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end())
        return fmt::format("value '{}' is not one of: {}", value, fmt::join(spec.choices, ", "));
    return std::nullopt;
}

std::optional<std::string> length_problem(const KeySpec& spec, std::size_t length) {
    if (length < spec.min_length)
        return fmt::format("array has {} element{}, expected at least {}", length,
                           length == 1 ? "" : "s", spec.min_length);
    return std::nullopt;
}

template <class T, class Check>
std::optional<std::string> array_problem(const KeySpec& spec, const std::vector<T>& values,
                                         Check check) {
    if (auto problem = length_problem(spec, values.size()))
        return problem;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (auto problem = check(spec, values[i]))
            return fmt::format("element [{}]: {}", i, *problem);
    }
    return std::nullopt;
}

std::optional<std::string> string_array_problem(const KeySpec& spec,
                                                const std::vector<std::string>& values) {
    if (auto problem = array_problem(spec, values, string_problem))
        return problem;
    for (std::size_t i = 0; i < values.size(); ++i)
        if (std::find(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values[i]) !=
            values.begin() + static_cast<std::ptrdiff_t>(i))
            return fmt::format("element [{}]: '{}' is listed twice", i, values[i]);
    return std::nullopt;
}

/// Why `value` is not acceptable for `spec`, or nullopt. Used for schema defaults.
std::optional<std::string> value_problem(const KeySpec& spec, const Value& value) {
    if (kind_of(value) != spec.kind)
        return fmt::format("default is a {}, expected {}", kind_name(kind_of(value)),
                           kind_name(spec.kind));
    switch (spec.kind) {
    case ValueKind::integer:
        return integer_problem(spec, std::get<std::int64_t>(value));
    case ValueKind::real:
        return real_problem(spec, std::get<double>(value));
    case ValueKind::boolean:
        return std::nullopt;
    case ValueKind::string:
        return string_problem(spec, std::get<std::string>(value));
    case ValueKind::integer_array:
        return array_problem(spec, std::get<std::vector<std::int64_t>>(value), integer_problem);
    case ValueKind::real_array:
        return array_problem(spec, std::get<std::vector<double>>(value), real_problem);
    case ValueKind::string_array:
        return string_array_problem(spec, std::get<std::vector<std::string>>(value));
    }
    return std::nullopt;
}

void add_key(std::vector<KeySpec>& keys, KeySpec spec) {
    const std::string& key = spec.key;
    if (std::count(key.begin(), key.end(), '.') != 1 || !is_bare_key(section_of(key)) ||
        !is_bare_key(name_of(key)))
        throw InternalError(fmt::format(
            "schema key '{}' is not of the form section.name (letters, digits, _ and -)", key));
    if (std::any_of(keys.begin(), keys.end(),
                    [&](const KeySpec& other) { return other.key == key; }))
        throw InternalError(fmt::format("schema key '{}' is declared twice", key));
    if (has_control_chars(spec.doc))
        throw InternalError(fmt::format("doc of schema key '{}' is not one line", key));
    if ((spec.min && std::isnan(*spec.min)) || (spec.max && std::isnan(*spec.max)) ||
        (spec.min && spec.max && *spec.min > *spec.max))
        throw InternalError(fmt::format("schema key '{}' has an empty or NaN range", key));
    if (auto problem = value_problem(spec, spec.default_value))
        throw InternalError(
            fmt::format("default of schema key '{}' is invalid: {}", key, *problem));
    keys.push_back(std::move(spec));
}

// ---------------------------------------------------------------------------------------------
// Reading values from parsed TOML

/// Where values being read come from, for messages and origins.
struct Site {
    std::string source;  ///< file name or "--set"
    bool positioned;     ///< take line:column from the nodes (false for --set snippets)
    std::string context; ///< appended to every problem: " (in --set 'a.b=1')"

    SourcePosition at(const toml::source_region& region) const {
        if (!positioned)
            return {source, 0, 0};
        return {source, static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
    }
};

std::optional<std::int64_t> integer_of(const toml::node& node) {
    if (const auto* integer = node.as_integer())
        return integer->get();
    return std::nullopt;
}

/// Integers are promoted to reals.
std::optional<double> real_of(const toml::node& node) {
    if (const auto* real = node.as_floating_point())
        return real->get();
    if (const auto* integer = node.as_integer())
        return static_cast<double>(integer->get());
    return std::nullopt;
}

std::optional<std::string> string_of(const toml::node& node) {
    if (const auto* text = node.as_string())
        return text->get();
    return std::nullopt;
}

/// The value of `node` for `spec`, or ConfigError naming the node's position.
Value read_value(const KeySpec& spec, const toml::node& node, const Site& site) {
    auto fail = [&](const toml::node& where, const std::string& problem) {
        return ConfigError(site.at(where.source()), spec.key, problem + site.context);
    };
    auto read_array = [&](auto of, std::string_view expected, auto check) {
        using T = typename decltype(of(node))::value_type;
        const toml::array* array = node.as_array();
        if (array == nullptr)
            throw fail(node,
                       fmt::format("expected {}, got {}", kind_name(spec.kind), describe(node)));
        if (auto problem = length_problem(spec, array->size()))
            throw fail(node, *problem);
        std::vector<T> values;
        values.reserve(array->size());
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& item = *array->get(i);
            const std::optional<T> value = of(item);
            if (!value)
                throw fail(item, fmt::format("element [{}]: expected {}, got {}", i, expected,
                                             describe(item)));
            if (auto problem = check(spec, *value))
                throw fail(item, fmt::format("element [{}]: {}", i, *problem));
            values.push_back(*value);
        }
        return values;
    };
    switch (spec.kind) {
    case ValueKind::integer: {
        const auto value = integer_of(node);
        if (!value)
            throw fail(node, "expected integer, got " + describe(node));
        if (auto problem = integer_problem(spec, *value))
            throw fail(node, *problem);
        return *value;
    }
    case ValueKind::real: {
        const auto value = real_of(node);
        if (!value)
            throw fail(node, "expected real, got " + describe(node));
        if (auto problem = real_problem(spec, *value))
            throw fail(node, *problem);
        return *value;
    }
    case ValueKind::boolean: {
        const auto* value = node.as_boolean();
        if (value == nullptr)
            throw fail(node, "expected boolean, got " + describe(node));
        return value->get();
    }
    case ValueKind::string: {
        const auto* value = node.as_string();
        if (value == nullptr)
            throw fail(node, "expected string, got " + describe(node));
        if (auto problem = string_problem(spec, value->get()))
            throw fail(node, *problem);
        return value->get();
    }
    case ValueKind::integer_array:
        return read_array(integer_of, "integer", integer_problem);
    case ValueKind::real_array:
        return read_array(real_of, "real", real_problem);
    case ValueKind::string_array: {
        auto values = read_array(string_of, "string", string_problem);
        if (auto problem = string_array_problem(spec, values))
            throw fail(node, *problem);
        return values;
    }
    }
    throw InternalError(fmt::format("schema key '{}' has an unknown kind", spec.key));
}

toml::table parse_document(std::string_view text, const std::string& source) {
    // toml++ 3.3 reports invalid UTF-8 at the character before the bad byte (often the end of
    // the previous line), so find the byte ourselves.
    if (const std::size_t bad = invalid_utf8_offset(text); bad != std::string_view::npos) {
        const std::string_view before = text.substr(0, bad);
        const std::size_t line_start = before.rfind('\n') + 1; // npos + 1 == 0
        const auto column = std::count_if(before.begin() + line_start, before.end(), [](char c) {
            return (static_cast<unsigned char>(c) & 0xC0) != 0x80; // count code points
        });
        throw ConfigError(
            {source, static_cast<int>(std::count(before.begin(), before.end(), '\n') + 1),
             static_cast<int>(column + 1)},
            "", fmt::format("invalid UTF-8 byte 0x{:02X}", static_cast<unsigned char>(text[bad])));
    }
    try {
        return toml::parse(text, std::string(source));
    } catch (const toml::parse_error& error) {
        const toml::source_position begin = error.source().begin;
        throw ConfigError({source, static_cast<int>(begin.line), static_cast<int>(begin.column)},
                          "", std::string(error.description()));
    }
}

/// Entries of `table` in the order they appear in the text (toml++ iterates by name), so
/// the first problem reported is the first one in the file.
std::vector<std::pair<const toml::key*, const toml::node*>>
in_text_order(const toml::table& table) {
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (const auto& [key, node] : table)
        entries.emplace_back(&key, &node);
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        const toml::source_position pa = a.first->source().begin;
        const toml::source_position pb = b.first->source().begin;
        return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
    });
    return entries;
}

struct Assignment {
    std::string key;
    Value value;
    std::string origin;
};

std::vector<Assignment> read_document(const Schema& schema, const toml::table& root,
                                      const std::string& source) {
    const std::vector<std::string> sections = sections_in_order(key_names(schema));
    const Site site{source, true, {}};
    std::vector<Assignment> assignments;
    for (const auto& [section_key, section_node] : in_text_order(root)) {
        const std::string section(section_key->str());
        const bool known = std::find(sections.begin(), sections.end(), section) != sections.end();
        const toml::table* table = section_node->as_table();
        if (!known && (table != nullptr || section_node->is_array_of_tables())) {
            const auto near = closest(section, sections);
            throw ConfigError(site.at(section_key->source()), "",
                              fmt::format("unknown table [{}]; known tables: {}{}", section,
                                          known_tables(sections),
                                          near ? fmt::format("; did you mean [{}]?", *near) : ""));
        }
        if (!known) {
            std::string hint = "known tables: " + known_tables(sections);
            for (const KeySpec& spec : schema.keys()) {
                if (name_of(spec.key) == section) {
                    hint = fmt::format("did you mean '{}' under [{}]?", spec.key,
                                       section_of(spec.key));
                    break;
                }
            }
            throw ConfigError(site.at(section_key->source()), section,
                              "key outside any table; " + hint);
        }
        if (table == nullptr)
            throw ConfigError(
                site.at(section_node->source()), section,
                fmt::format("expected table [{}], got {}", section, describe(*section_node)));
        for (const auto& [key, node] : in_text_order(*table)) {
            const std::string full_key = fmt::format("{}.{}", section, key->str());
            const KeySpec* spec = schema.find(full_key);
            if (spec == nullptr)
                throw ConfigError(site.at(key->source()), full_key,
                                  "unknown key" + key_suggestion(schema, section, key->str()));
            assignments.push_back(
                {full_key, read_value(*spec, *node, site), site.at(node->source()).str()});
        }
    }
    return assignments;
}

// ---------------------------------------------------------------------------------------------
// --set overrides

struct Override {
    std::string key;
    std::string value;
};

std::optional<Override> split_override(std::string_view text) {
    const auto equals = text.find('=');
    if (equals == std::string_view::npos)
        return std::nullopt;
    return Override{std::string(trim(text.substr(0, equals))),
                    std::string(trim(text.substr(equals + 1)))};
}

/// `value` parsed as the TOML value of `v = <value>`, or nullopt if that is not exactly one
/// valid TOML value (so "1\nx = 2" cannot smuggle in another key).
std::optional<toml::table> parse_override_value(std::string_view value) {
    try {
        toml::table table = toml::parse(fmt::format("v = {}", value), std::string(set_source));
        if (table.size() == 1 && table.contains("v"))
            return table;
    } catch (const toml::parse_error&) {
    }
    return std::nullopt;
}

/// The string an override gives a string key: a TOML string if the value is one, else the
/// raw text (a bare word). A quoted value that is not a valid TOML string is an error.
std::string override_string(const Override& entry, std::string_view text) {
    if (auto table = parse_override_value(entry.value)) {
        if (const auto* value = table->get("v")->as_string())
            return value->get();
    }
    const SourcePosition where{std::string(set_source), 0, 0};
    if (!entry.value.empty() && (entry.value.front() == '"' || entry.value.front() == '\''))
        throw ConfigError(
            where, entry.key,
            fmt::format("value {} is not a valid TOML string (in --set '{}')", entry.value, text));
    if (!is_valid_utf8(entry.value))
        throw ConfigError(where, entry.key,
                          fmt::format("value is not valid UTF-8 (in --set '{}')", text));
    return entry.value;
}

Assignment read_override(const Schema& schema, const std::string& text) {
    const SourcePosition where{std::string(set_source), 0, 0};
    const std::optional<Override> entry = split_override(text);
    if (!entry)
        throw ConfigError(where, "",
                          fmt::format("'{}' is not of the form section.key=value", text));
    if (entry->key.empty())
        throw ConfigError(where, "",
                          fmt::format("'{}' has an empty key; expected section.key=value", text));
    const KeySpec* spec = schema.find(entry->key);
    if (spec == nullptr) {
        std::string suggestion;
        if (entry->key.find('.') != std::string::npos)
            suggestion = key_suggestion(schema, section_of(entry->key), name_of(entry->key));
        throw ConfigError(where, entry->key,
                          fmt::format("unknown key in --set '{}'{}", text, suggestion));
    }
    const Site site{std::string(set_source), false, fmt::format(" (in --set '{}')", text)};
    if (spec->kind == ValueKind::string) {
        std::string value = override_string(*entry, text);
        if (auto problem = string_problem(*spec, value))
            throw ConfigError(where, spec->key, *problem + site.context);
        return {spec->key, std::move(value), std::string(set_source)};
    }
    const std::optional<toml::table> table = parse_override_value(entry->value);
    if (!table)
        throw ConfigError(where, spec->key,
                          fmt::format("value '{}' is not valid TOML for {} (in --set '{}')",
                                      entry->value, kind_name(spec->kind), text));
    return {spec->key, read_value(*spec, *table->get("v"), site), std::string(set_source)};
}

std::string source_or_placeholder(std::string_view source_name) {
    return source_name.empty() ? std::string("<config>") : std::string(source_name);
}

std::string describe_spec(const KeySpec& spec) {
    auto range = [&] {
        if (spec.kind == ValueKind::integer || spec.kind == ValueKind::integer_array)
            return fmt::format("[{}, {}]",
                               integer_bound(spec.min, std::numeric_limits<std::int64_t>::min()),
                               integer_bound(spec.max, std::numeric_limits<std::int64_t>::max()));
        return fmt::format("[{}, {}]", spec.min.value_or(-std::numeric_limits<double>::infinity()),
                           spec.max.value_or(std::numeric_limits<double>::infinity()));
    };
    auto at_least = [&] {
        return spec.min_length == 0 ? std::string()
                                    : fmt::format(", at least {} element{}", spec.min_length,
                                                  spec.min_length == 1 ? "" : "s");
    };
    switch (spec.kind) {
    case ValueKind::integer:
        return "integer in " + range();
    case ValueKind::real:
        return "real in " + range();
    case ValueKind::boolean:
        return "true or false";
    case ValueKind::string:
        return spec.choices.empty() ? std::string("string")
                                    : fmt::format("one of: {}", fmt::join(spec.choices, ", "));
    case ValueKind::integer_array:
        return "array of integers in " + range() + at_least();
    case ValueKind::real_array:
        return "array of reals in " + range() + at_least();
    case ValueKind::string_array:
        return (spec.choices.empty() ? std::string("array of strings")
                                     : fmt::format("array of distinct strings from: {}",
                                                   fmt::join(spec.choices, ", "))) +
               at_least();
    }
    return {};
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Schema

Schema& Schema::integer(std::string key, std::int64_t default_value, std::int64_t min,
                        std::int64_t max, std::string doc) {
    if (min > max)
        throw InternalError(fmt::format("schema key '{}' has min {} > max {}", key, min, max));
    KeySpec spec{std::move(key),
                 ValueKind::integer,
                 default_value,
                 static_cast<double>(min),
                 static_cast<double>(max),
                 {},
                 0,
                 std::move(doc)};
    add_key(keys_, std::move(spec));
    return *this;
}

Schema& Schema::real(std::string key, double default_value, double min, double max,
                     std::string doc) {
    add_key(keys_,
            {std::move(key), ValueKind::real, default_value, min, max, {}, 0, std::move(doc)});
    return *this;
}

Schema& Schema::boolean(std::string key, bool default_value, std::string doc) {
    add_key(keys_, {std::move(key),
                    ValueKind::boolean,
                    default_value,
                    std::nullopt,
                    std::nullopt,
                    {},
                    0,
                    std::move(doc)});
    return *this;
}

Schema& Schema::string(std::string key, std::string default_value, std::vector<std::string> choices,
                       std::string doc) {
    add_key(keys_, {std::move(key), ValueKind::string, std::move(default_value), std::nullopt,
                    std::nullopt, std::move(choices), 0, std::move(doc)});
    return *this;
}

Schema& Schema::integer_array(std::string key, std::vector<std::int64_t> default_value,
                              std::int64_t min, std::int64_t max, std::size_t min_length,
                              std::string doc) {
    if (min > max)
        throw InternalError(fmt::format("schema key '{}' has min {} > max {}", key, min, max));
    add_key(keys_, {std::move(key),
                    ValueKind::integer_array,
                    std::move(default_value),
                    static_cast<double>(min),
                    static_cast<double>(max),
                    {},
                    min_length,
                    std::move(doc)});
    return *this;
}

Schema& Schema::real_array(std::string key, std::vector<double> default_value, double min,
                           double max, std::size_t min_length, std::string doc) {
    add_key(keys_, {std::move(key),
                    ValueKind::real_array,
                    std::move(default_value),
                    min,
                    max,
                    {},
                    min_length,
                    std::move(doc)});
    return *this;
}

Schema& Schema::string_array(std::string key, std::vector<std::string> default_value,
                             std::vector<std::string> choices, std::size_t min_length,
                             std::string doc) {
    add_key(keys_, {std::move(key), ValueKind::string_array, std::move(default_value), std::nullopt,
                    std::nullopt, std::move(choices), min_length, std::move(doc)});
    return *this;
}

const KeySpec* Schema::find(std::string_view key) const {
    const auto it = std::find_if(keys_.begin(), keys_.end(),
                                 [&](const KeySpec& spec) { return spec.key == key; });
    return it == keys_.end() ? nullptr : &*it;
}

std::string Schema::commented_defaults() const {
    std::string out;
    for (const std::string& section : sections_in_order(key_names(*this))) {
        if (!out.empty())
            out += '\n';
        out += fmt::format("[{}]\n", section);
        for (const KeySpec& spec : keys_) {
            if (section_of(spec.key) != section)
                continue;
            out += spec.doc.empty() ? fmt::format("# ({})\n", describe_spec(spec))
                                    : fmt::format("# {} ({})\n", spec.doc, describe_spec(spec));
            out += fmt::format("{} = {}\n", name_of(spec.key), toml_value(spec.default_value));
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Config

const Value& Config::at(std::string_view key) const {
    const auto it = values_.find(key);
    if (it == values_.end())
        throw InternalError(fmt::format("config key '{}' is not in the schema", key));
    return it->second;
}

namespace {
template <class T> const T& get_as(const Value& value, std::string_view key, ValueKind expected) {
    if (const T* typed = std::get_if<T>(&value))
        return *typed;
    throw InternalError(fmt::format("config key '{}' is read as {} but is {}", key,
                                    kind_name(expected), kind_name(kind_of(value))));
}
} // namespace

std::int64_t Config::integer(std::string_view key) const {
    return get_as<std::int64_t>(at(key), key, ValueKind::integer);
}

double Config::real(std::string_view key) const {
    return get_as<double>(at(key), key, ValueKind::real);
}

bool Config::boolean(std::string_view key) const {
    return get_as<bool>(at(key), key, ValueKind::boolean);
}

const std::string& Config::string(std::string_view key) const {
    return get_as<std::string>(at(key), key, ValueKind::string);
}

const std::vector<std::int64_t>& Config::integer_array(std::string_view key) const {
    return get_as<std::vector<std::int64_t>>(at(key), key, ValueKind::integer_array);
}

const std::vector<double>& Config::real_array(std::string_view key) const {
    return get_as<std::vector<double>>(at(key), key, ValueKind::real_array);
}

const std::vector<std::string>& Config::string_array(std::string_view key) const {
    return get_as<std::vector<std::string>>(at(key), key, ValueKind::string_array);
}

std::vector<std::string> Config::differing_keys(const Config& other) const {
    std::vector<std::string> keys;
    for (const auto& [key, value] : values_) {
        const auto theirs = other.values_.find(key);
        if (theirs == other.values_.end() || !(theirs->second == value))
            keys.push_back(key);
    }
    for (const auto& [key, value] : other.values_)
        if (!values_.contains(key))
            keys.push_back(key);
    // Report in schema order, as the user sees the config.
    std::vector<std::string> ordered;
    for (const auto& key : key_order_)
        if (std::find(keys.begin(), keys.end(), key) != keys.end())
            ordered.push_back(key);
    for (const auto& key : keys)
        if (std::find(ordered.begin(), ordered.end(), key) == ordered.end())
            ordered.push_back(key);
    return ordered;
}

std::string Config::to_toml() const {
    std::string out;
    for (const std::string& section : sections_in_order(key_order_)) {
        if (!out.empty())
            out += '\n';
        out += fmt::format("[{}]\n", section);
        for (const std::string& key : key_order_) {
            if (section_of(key) == section)
                out += fmt::format("{} = {}\n", name_of(key), toml_value(at(key)));
        }
    }
    return out;
}

const std::string& Config::origin(std::string_view key) const {
    const auto it = origins_.find(key);
    if (it == origins_.end())
        throw InternalError(fmt::format("config key '{}' is not in the schema", key));
    return it->second;
}

Config resolve_config(const Schema& schema, std::optional<std::string_view> toml_text,
                      std::string_view source_name, std::span<const std::string> set_overrides) {
    Config config;
    for (const KeySpec& spec : schema.keys()) {
        config.key_order_.push_back(spec.key);
        config.values_.insert_or_assign(spec.key, spec.default_value);
        config.origins_.insert_or_assign(spec.key, std::string(default_origin));
    }
    std::vector<Assignment> assignments;
    if (toml_text) {
        const std::string source = source_or_placeholder(source_name);
        assignments = read_document(schema, parse_document(*toml_text, source), source);
    }
    for (const std::string& text : set_overrides)
        assignments.push_back(read_override(schema, text));
    for (Assignment& assignment : assignments) {
        config.values_.insert_or_assign(assignment.key, std::move(assignment.value));
        config.origins_.insert_or_assign(assignment.key, std::move(assignment.origin));
    }
    return config;
}

std::optional<std::string> peek_string(std::optional<std::string_view> toml_text,
                                       std::string_view source_name,
                                       std::span<const std::string> set_overrides,
                                       std::string_view key) {
    const std::string source = source_or_placeholder(source_name);
    std::optional<toml::table> root;
    if (toml_text)
        root = parse_document(*toml_text, source);
    std::optional<std::string> from_override;
    for (const std::string& text : set_overrides) {
        const std::optional<Override> entry = split_override(text);
        if (entry && entry->key == key)
            from_override = override_string(*entry, text);
    }
    if (from_override)
        return from_override;
    if (!root || key.find('.') == std::string_view::npos)
        return std::nullopt;
    const toml::table* section = root->get_as<toml::table>(section_of(key));
    const toml::node* node = section != nullptr ? section->get(name_of(key)) : nullptr;
    if (node == nullptr)
        return std::nullopt;
    if (const auto* value = node->as_string())
        return value->get();
    const Site site{source, true, {}};
    throw ConfigError(site.at(node->source()), std::string(key),
                      "expected string, got " + describe(*node));
}

} // namespace moesim::core
