#include "yaml/yaml.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>

namespace meshlink::yaml {
namespace {

// go-yaml v2 drops '_' from plain numbers before parsing them.
std::string without_underscores(std::string_view text) {
    std::string digits;
    for (char c : text) {
        if (c != '_') {
            digits += c;
        }
    }
    return digits;
}

// A plain integer as go-yaml v2 reads it: Go's ParseInt with base 0 (0b, 0o, 0x, a leading 0 for octal).
// nullopt when it does not fit an int64.
std::optional<std::int64_t> yaml_1_1_integer(std::string_view text) {
    const std::string digits = without_underscores(text);
    std::string_view v = digits;
    const bool negative = v.starts_with('-');
    if (negative || v.starts_with('+')) {
        v.remove_prefix(1);
    }
    int base = 10;
    if (v.starts_with("0b") || v.starts_with("0o") || v.starts_with("0x")) {
        base = v[1] == 'b' ? 2 : v[1] == 'o' ? 8 : 16;
        v.remove_prefix(2);
    } else if (v.size() > 1 && v.front() == '0') {
        base = 8;
    }
    std::uint64_t magnitude = 0;
    const char* end = v.data() + v.size();
    if (auto [ptr, ec] = std::from_chars(v.data(), end, magnitude, base); ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    if (magnitude > static_cast<std::uint64_t>(INT64_MAX) + (negative ? 1U : 0U)) {
        return std::nullopt;
    }
    return negative ? static_cast<std::int64_t>(0U - magnitude) : static_cast<std::int64_t>(magnitude);
}

// A plain float as go-yaml v2 reads it; .inf and .nan have no JSON form and stay text.
std::optional<double> yaml_1_1_float(std::string_view text) {
    const std::string digits = without_underscores(text);
    std::string_view v = digits;
    if (v.starts_with('+')) {
        v.remove_prefix(1);
    }
    double number = 0;
    const char* end = v.data() + v.size();
    if (auto [ptr, ec] = std::from_chars(v.data(), end, number); ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return number;
}

class Converter {
public:
    explicit Converter(bool portable) : m_portable(portable) {}

    nlohmann::json value(const YAML::Node& node, const std::string& where) {
        switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null:
            return nullptr;
        case YAML::NodeType::Scalar:
            return scalar(node, where);
        case YAML::NodeType::Sequence: {
            auto out = nlohmann::json::array();
            std::size_t index = 0;
            for (const auto& item : node) {
                out.push_back(value(item, m_portable ? fmt::format("{}[{}]", where, index++) : where));
            }
            return out;
        }
        case YAML::NodeType::Map: {
            auto out = nlohmann::json::object();
            for (const auto& item : node) {
                const std::string& key = item.first.Scalar();
                out[key] = value(item.second, m_portable ? where + "." + key : where);
            }
            return out;
        }
        }
        return nullptr;
    }

    std::optional<util::Error> error;

private:
    nlohmann::json refuse(std::string message) {
        if (!error) {
            error = util::Error{util::ErrorKind::parse, std::move(message)};
        }
        return nullptr;
    }

    nlohmann::json ambiguous(const std::string& where, const std::string& text) {
        return refuse(fmt::format(
            "{}: the plain scalar \"{}\" reads differently in YAML 1.1 and 1.2; quote it", where, text));
    }

    nlohmann::json scalar(const YAML::Node& node, const std::string& where) {
        const std::string& text = node.Scalar();
        const std::string& tag = node.Tag();
        if (tag == "!") {
            return text; // quoted or block
        }
        if (tag != "?") {
            if (m_portable) {
                return refuse(
                    fmt::format("{}: explicit tag {} on \"{}\" is not supported; write the value plainly",
                                where, tag, text));
            }
            return text;
        }
        switch (resolve_plain_scalar(text)) {
        case PlainScalarType::string:
            return text;
        case PlainScalarType::null:
            return nullptr;
        case PlainScalarType::boolean:
            if (m_portable && text != "true" && text != "false") {
                return ambiguous(where, text);
            }
            return text == "true" || text == "True" || text == "TRUE" || text == "y" || text == "Y" ||
                   text == "yes" || text == "Yes" || text == "YES" || text == "on" || text == "On" ||
                   text == "ON";
        case PlainScalarType::integer:
            return integer(where, text);
        case PlainScalarType::floating:
            return floating(where, text);
        }
        return text;
    }

    nlohmann::json integer(const std::string& where, const std::string& text) {
        if (!m_portable) {
            const auto number = yaml_1_1_integer(text);
            return number ? nlohmann::json(*number) : nlohmann::json(text);
        }
        // A leading 0 is octal in YAML 1.1 and decimal in 1.2; prefixes and '_' are 1.1 only.
        const bool signed_text = text.starts_with('-') || text.starts_with('+');
        if (text.size() > 1 && text[signed_text ? 1 : 0] == '0') {
            return ambiguous(where, text);
        }
        std::int64_t number = 0;
        const char* begin = text.data() + (text.starts_with('+') ? 1 : 0);
        const char* end = text.data() + text.size();
        if (auto [ptr, ec] = std::from_chars(begin, end, number); ec != std::errc() || ptr != end) {
            return ambiguous(where, text);
        }
        return number;
    }

    nlohmann::json floating(const std::string& where, const std::string& text) {
        if (!m_portable) {
            const auto number = yaml_1_1_float(text);
            return number ? nlohmann::json(*number) : nlohmann::json(text);
        }
        double number = 0;
        const char* end = text.data() + text.size();
        if (auto [ptr, ec] = std::from_chars(text.data(), end, number); ec != std::errc() || ptr != end) {
            return ambiguous(where, text);
        }
        return number;
    }

    bool m_portable;
};

} // namespace

nlohmann::json to_json(const YAML::Node& node) {
    Converter converter(false);
    return converter.value(node, {});
}

util::Result<nlohmann::json> to_portable_json(const YAML::Node& node, const std::string& where) {
    Converter converter(true);
    auto out = converter.value(node, where);
    if (converter.error) {
        return std::unexpected(*converter.error);
    }
    return out;
}

} // namespace meshlink::yaml
