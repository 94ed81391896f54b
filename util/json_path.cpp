#include "util/json_path.hpp"

#include <cstdint>
#include <limits>

namespace meshlink::util::json_path {

const nlohmann::json& child(const nlohmann::json& object, std::string_view key) {
    static const nlohmann::json k_null;
    if (!object.is_object()) {
        return k_null;
    }
    auto it = object.find(key);
    return it == object.end() ? k_null : *it;
}

std::string text(const nlohmann::json& object, std::string_view key) {
    const nlohmann::json& value = child(object, key);
    return value.is_string() ? value.get<std::string>() : std::string();
}

const nlohmann::json* find(const nlohmann::json& root, std::initializer_list<std::string_view> path) {
    const nlohmann::json* at = &root;
    for (auto key : path) {
        if (!at->is_object()) {
            return nullptr;
        }
        auto it = at->find(key);
        if (it == at->end()) {
            return nullptr;
        }
        at = &*it;
    }
    return at;
}

std::string string_at(const nlohmann::json& root, std::initializer_list<std::string_view> path,
                      std::string fallback) {
    const auto* value = find(root, path);
    return value != nullptr && value->is_string() ? value->get<std::string>() : fallback;
}

int int_at(const nlohmann::json& root, std::initializer_list<std::string_view> path, int fallback) {
    const auto* value = find(root, path);
    if (value == nullptr || !value->is_number_integer()) {
        return fallback;
    }
    const auto number = value->get<std::int64_t>();
    if (number < std::numeric_limits<int>::min() || number > std::numeric_limits<int>::max()) {
        return fallback;
    }
    return static_cast<int>(number);
}

const nlohmann::json& array_at(const nlohmann::json& root, std::initializer_list<std::string_view> path) {
    static const nlohmann::json k_empty = nlohmann::json::array();
    const auto* value = find(root, path);
    return value != nullptr && value->is_array() ? *value : k_empty;
}

} // namespace meshlink::util::json_path
