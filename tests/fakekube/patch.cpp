#include "tests/fakekube/patch.hpp"

#include "tests/fakekube/schema/schema.hpp"

#include <algorithm>
#include <set>

namespace meshlink::fakekube {
namespace {

using util::ErrorKind;
using util::fail;

constexpr std::string_view k_patch = "$patch";
constexpr std::string_view k_retain_keys = "$retainKeys";
constexpr std::string_view k_delete_from_primitive = "$deleteFromPrimitiveList/";
constexpr std::string_view k_set_element_order = "$setElementOrder/";

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

// The model a field's value (or its list elements) follows, if any.
const schema::Model* child_model(const schema::Model* model, const std::string& key) {
    if (model == nullptr) {
        return nullptr;
    }
    const schema::Type* type = model->field(key);
    while (type != nullptr &&
           (type->kind == schema::Type::Kind::list || type->kind == schema::Type::Kind::map)) {
        type = type->element.get();
    }
    return type != nullptr && type->kind == schema::Type::Kind::model ? type->model : nullptr;
}

util::Result<json> merge_map(json original, const json& patch, const schema::Model* model);

// Strips directives from a value being added where nothing existed before.
util::Result<json> fresh(const json& value, const schema::Model* model) {
    if (value.is_object()) {
        return merge_map(json::object(), value, model);
    }
    if (value.is_array()) {
        json out = json::array();
        for (const auto& element : value) {
            if (element.is_object() && element.contains(k_patch)) {
                continue; // a delete/replace directive has nothing to act on
            }
            auto clean = fresh(element, model);
            if (!clean) {
                return clean;
            }
            out.push_back(std::move(*clean));
        }
        return out;
    }
    return value;
}

util::Result<json> merge_list(const json& original, const json& patch, const schema::PatchMeta& meta,
                              const schema::Model* element_model, const std::string& key) {
    const bool merge = meta.strategy.find("merge") != std::string::npos;
    if (!merge) {
        return fresh(patch, element_model);
    }
    // {"$patch": "replace"} in the list replaces it with the other elements.
    for (const auto& element : patch) {
        if (element.is_object() && element.value(std::string(k_patch), "") == "replace") {
            json rest = json::array();
            for (const auto& other : patch) {
                if (!(other.is_object() && other.contains(k_patch))) {
                    rest.push_back(other);
                }
            }
            return fresh(rest, element_model);
        }
    }
    json out = original.is_array() ? original : json::array();
    if (meta.merge_key.empty()) {
        // A set of primitives: union, keeping the original order.
        for (const auto& element : patch) {
            if (std::find(out.begin(), out.end(), element) == out.end()) {
                out.push_back(element);
            }
        }
        return out;
    }
    const std::string& merge_key = meta.merge_key;
    for (const auto& element : patch) {
        if (!element.is_object()) {
            return fail(ErrorKind::invalid,
                        "list " + key + " with merge key " + merge_key + " has a non-map element");
        }
        if (!element.contains(merge_key)) {
            return fail(ErrorKind::invalid,
                        "map: " + element.dump() + " does not contain declared merge key: " + merge_key);
        }
        const json& id = element[merge_key];
        auto found = std::find_if(out.begin(), out.end(), [&](const json& item) {
            return item.is_object() && item.contains(merge_key) && item[merge_key] == id;
        });
        const std::string directive = element.value(std::string(k_patch), "");
        if (directive == "delete") {
            if (found != out.end()) {
                out.erase(found);
            }
            continue;
        }
        if (found != out.end()) {
            auto merged = merge_map(*found, element, element_model);
            if (!merged) {
                return merged;
            }
            *found = std::move(*merged);
        } else {
            auto added = fresh(element, element_model);
            if (!added) {
                return added;
            }
            out.push_back(std::move(*added));
        }
    }
    return out;
}

// $setElementOrder/<key>: elements named in the order list come first, in that order.
json reorder(const json& list, const json& order, const std::string& merge_key) {
    if (!list.is_array() || !order.is_array()) {
        return list;
    }
    json out = json::array();
    std::vector<bool> used(list.size(), false);
    for (const auto& wanted : order) {
        for (size_t i = 0; i < list.size(); ++i) {
            if (used[i]) {
                continue;
            }
            const bool same =
                merge_key.empty()
                    ? list[i] == wanted
                    : (list[i].is_object() && wanted.is_object() && list[i].contains(merge_key) &&
                       wanted.contains(merge_key) && list[i][merge_key] == wanted[merge_key]);
            if (same) {
                out.push_back(list[i]);
                used[i] = true;
                break;
            }
        }
    }
    for (size_t i = 0; i < list.size(); ++i) {
        if (!used[i]) {
            out.push_back(list[i]);
        }
    }
    return out;
}

util::Result<json> merge_map(json original, const json& patch, const schema::Model* model) {
    if (!patch.is_object()) {
        return patch;
    }
    if (!original.is_object()) {
        original = json::object();
    }
    const std::string directive = patch.value(std::string(k_patch), "");
    if (directive == "replace") {
        json replacement = patch;
        replacement.erase(std::string(k_patch));
        return fresh(replacement, model);
    }
    if (directive == "delete") {
        return json::object();
    }
    if (!directive.empty() && directive != "merge") {
        return fail(ErrorKind::invalid, "Unknown patch type: " + directive + " in map: " + patch.dump());
    }
    if (auto retain = patch.find(k_retain_keys); retain != patch.end()) {
        if (!retain->is_array()) {
            return fail(ErrorKind::invalid, "$retainKeys must be a list of strings");
        }
        std::set<std::string> keep;
        for (const auto& key : *retain) {
            keep.insert(key.get<std::string>());
        }
        for (auto it = original.begin(); it != original.end();) {
            it = keep.contains(it.key()) ? std::next(it) : original.erase(it);
        }
    }
    std::vector<std::pair<std::string, json>> orders;
    for (const auto& [key, value] : patch.items()) {
        if (key == k_patch || key == k_retain_keys) {
            continue;
        }
        if (starts_with(key, k_set_element_order)) {
            orders.emplace_back(key.substr(k_set_element_order.size()), value);
            continue;
        }
        if (starts_with(key, k_delete_from_primitive)) {
            const std::string field = key.substr(k_delete_from_primitive.size());
            if (original.contains(field) && original[field].is_array() && value.is_array()) {
                json& list = original[field];
                for (const auto& gone : value) {
                    list.erase(std::remove(list.begin(), list.end(), gone), list.end());
                }
            }
            continue;
        }
        if (value.is_null()) {
            original.erase(key);
            continue;
        }
        const schema::Model* sub = child_model(model, key);
        const schema::PatchMeta meta = model != nullptr ? model->patch_meta(key) : schema::PatchMeta{};
        if (value.is_object() && value.value(std::string(k_patch), "") == "delete") {
            original.erase(key);
        } else if (value.is_object()) {
            const bool existing = original.contains(key) && original[key].is_object();
            auto merged = merge_map(existing ? original[key] : json::object(), value, sub);
            if (!merged) {
                return merged;
            }
            original[key] = std::move(*merged);
        } else if (value.is_array()) {
            auto merged =
                merge_list(original.contains(key) ? original[key] : json::array(), value, meta, sub, key);
            if (!merged) {
                return merged;
            }
            original[key] = std::move(*merged);
        } else {
            original[key] = value;
        }
    }
    for (const auto& [field, order] : orders) {
        if (original.contains(field)) {
            const schema::PatchMeta meta = model != nullptr ? model->patch_meta(field) : schema::PatchMeta{};
            original[field] = reorder(original[field], order, meta.merge_key);
        }
    }
    return original;
}

} // namespace

util::Result<json> apply_merge_patch(const json& original, const json& patch) {
    if (!patch.is_object()) {
        return patch;
    }
    json out = original;
    out.merge_patch(patch);
    return out;
}

util::Result<json> apply_json_patch(const json& original, const json& patch) {
    if (!patch.is_array()) {
        return fail(ErrorKind::bad_request,
                    "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    }
    try {
        return original.patch(patch);
    } catch (const json::exception& error) {
        std::string what = error.what();
        // nlohmann prefixes "[json.exception.out_of_range.403] "; keep only the explanation.
        if (auto close = what.find("] "); close != std::string::npos) {
            what = what.substr(close + 2);
        }
        return fail(ErrorKind::invalid, what);
    }
}

util::Result<json> apply_strategic_merge_patch(const json& original, const json& patch,
                                               const schema::Model* model) {
    if (!patch.is_object()) {
        return fail(ErrorKind::bad_request,
                    "json: cannot unmarshal array into Go value of type map[string]interface {}");
    }
    return merge_map(original, patch, model);
}

} // namespace meshlink::fakekube
