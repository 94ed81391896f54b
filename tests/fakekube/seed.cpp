#include "tests/fakekube/seed.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace meshlink::fakekube {
namespace {

bool digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// [-+]?[0-9]+
bool is_int(std::string_view text) {
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        text.remove_prefix(1);
    }
    return digits(text);
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?  (YAML 1.2 core schema floats)
bool is_float(std::string_view text) {
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        text.remove_prefix(1);
    }
    const size_t exponent = text.find_first_of("eE");
    std::string_view mantissa = text.substr(0, exponent);
    if (exponent != std::string_view::npos) {
        std::string_view power = text.substr(exponent + 1);
        if (!power.empty() && (power.front() == '-' || power.front() == '+')) {
            power.remove_prefix(1);
        }
        if (!digits(power)) {
            return false;
        }
    }
    const size_t dot = mantissa.find('.');
    if (dot == std::string_view::npos) {
        return digits(mantissa);
    }
    const std::string_view whole = mantissa.substr(0, dot);
    const std::string_view fraction = mantissa.substr(dot + 1);
    return (whole.empty() || digits(whole)) && (fraction.empty() || digits(fraction)) &&
           !(whole.empty() && fraction.empty());
}

json scalar(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    if (node.Tag() != "?") {
        return text; // quoted or explicitly tagged: a string
    }
    if (text == "null" || text == "Null" || text == "NULL" || text == "~" || text.empty()) {
        return nullptr;
    }
    // YAML 1.1 booleans, as sigs.k8s.io/yaml (what kubectl reads manifests with) resolves them.
    static const std::set<std::string> k_true = {"true", "True", "TRUE", "y",  "Y", "yes",
                                                 "Yes",  "YES",  "on",   "On", "ON"};
    static const std::set<std::string> k_false = {"false", "False", "FALSE", "n",   "N",  "no",
                                                  "No",    "NO",    "off",   "Off", "OFF"};
    if (k_true.contains(text)) {
        return true;
    }
    if (k_false.contains(text)) {
        return false;
    }
    if (is_int(text)) {
        try {
            return std::stoll(text);
        } catch (const std::exception&) {
            return text;
        }
    }
    if (is_float(text)) {
        try {
            return std::stod(text);
        } catch (const std::exception&) {
            return text;
        }
    }
    return text;
}

json to_json(const YAML::Node& node) {
    switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
        return nullptr;
    case YAML::NodeType::Scalar:
        return scalar(node);
    case YAML::NodeType::Sequence: {
        json out = json::array();
        for (const auto& item : node) {
            out.push_back(to_json(item));
        }
        return out;
    }
    case YAML::NodeType::Map: {
        json out = json::object();
        for (const auto& entry : node) {
            out[entry.first.as<std::string>()] = to_json(entry.second);
        }
        return out;
    }
    }
    return nullptr;
}

} // namespace

util::Result<std::vector<json>> yaml_documents(const std::string& text, const std::string& origin) {
    std::vector<json> out;
    try {
        for (const auto& node : YAML::LoadAll(text)) {
            json document = to_json(node);
            if (!document.is_null()) {
                out.push_back(std::move(document));
            }
        }
    } catch (const YAML::Exception& error) {
        return util::fail(util::ErrorKind::parse,
                          origin + ":" + std::to_string(error.mark.line + 1) + ": " + error.msg);
    }
    return out;
}

util::Result<std::vector<json>> read_seed_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return util::fail(util::ErrorKind::io, path + ": cannot open seed file");
    }
    std::stringstream text;
    text << in.rdbuf();
    auto documents = yaml_documents(text.str(), path);
    if (!documents) {
        return documents;
    }
    std::vector<json> objects;
    for (size_t i = 0; i < documents->size(); ++i) {
        json& document = (*documents)[i];
        if (!document.is_object()) {
            return util::fail(util::ErrorKind::parse,
                              path + ": document " + std::to_string(i + 1) + " is not an object");
        }
        const std::string kind = document.value("kind", "");
        if (kind == "List" || (kind.size() > 4 && kind.ends_with("List") && document.contains("items"))) {
            for (auto& item : document["items"]) {
                if (!item.contains("kind") && kind != "List") {
                    item["kind"] = kind.substr(0, kind.size() - 4);
                    item["apiVersion"] = document.value("apiVersion", "");
                }
                objects.push_back(std::move(item));
            }
        } else {
            objects.push_back(std::move(document));
        }
    }
    return objects;
}

} // namespace meshlink::fakekube
