#pragma once
// The official API models (generated from python3-kubernetes by gen_schema.py) and the decode-time
// checks kube-apiserver makes with them: unknown fields (fieldValidation Strict/Warn/Ignore), type
// mismatches (encoding/json's UnmarshalTypeError text), base64 of []byte fields, plus the patch
// metadata (patchStrategy/patchMergeKey) strategic merge patch needs.

#include "tests/fakekube/http.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::fakekube::schema {

struct Model;

struct Type {
    enum class Kind {
        string,
        integer,
        number,
        boolean,
        date_time,
        any,
        int_or_string,
        quantity,
        bytes,
        list,
        map,
        model
    };
    Kind kind = Kind::any;
    std::shared_ptr<const Type> element; // list and map
    const Model* model = nullptr;        // model
};

struct PatchMeta {
    std::string strategy;  // "merge", "retainKeys", "merge,retainKeys" or ""
    std::string merge_key; // "" for lists of primitives
};

struct Model {
    std::string name; // V1PodSpec
    std::string go;   // PodSpec
    std::map<std::string, Type> fields;
    std::set<std::string> required;
    std::map<std::string, PatchMeta> patch;

    [[nodiscard]] const Type* field(std::string_view name) const;
    [[nodiscard]] PatchMeta patch_meta(std::string_view name) const;
};

class Schema {
public:
    // The embedded schema, parsed once.
    static const Schema& instance();
    // Parses a schema document (gen_schema.py's shape); throws on malformed input.
    explicit Schema(const json& document);

    [[nodiscard]] const Model* model(std::string_view name) const;
    [[nodiscard]] const Model* model_for_kind(std::string_view api_version, std::string_view kind) const;

private:
    std::map<std::string, std::unique_ptr<Model>, std::less<>> m_models;
    std::map<std::string, std::string, std::less<>> m_kinds;
};

// What decoding an object against its model found.
struct DecodeReport {
    std::vector<std::string> unknown_fields; // "spec.ports[0].targtPort", in document order
    std::optional<std::string> error;        // first fatal decode error (type mismatch, bad base64)
};

// Checks `object` against `model`. Unknown fields are removed from `object` (the server drops them in
// every mode; Strict then refuses the request) and nulls are dropped like a decode/encode round trip.
// Numbers given for quantities are turned into their canonical string.
DecodeReport decode(json& object, const Model& model);

// "unknown field \"a\", unknown field \"b\"" as the strict decoder joins them.
std::string unknown_fields_message(const std::vector<std::string>& fields);

} // namespace meshlink::fakekube::schema
