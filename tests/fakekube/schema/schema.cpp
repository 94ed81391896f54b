#include "tests/fakekube/schema/schema.hpp"

#include "tests/fakekube/schema/embedded.hpp"
#include "util/base64.hpp"

#include <cmath>
#include <stdexcept>

namespace meshlink::fakekube::schema {
namespace {

std::shared_ptr<const Type>
parse_type(std::string_view text, const std::map<std::string, std::unique_ptr<Model>, std::less<>>& models) {
    auto type = std::make_shared<Type>();
    auto starts = [&](std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; };
    if (starts("list:")) {
        type->kind = Type::Kind::list;
        type->element = parse_type(text.substr(5), models);
    } else if (starts("map:")) {
        type->kind = Type::Kind::map;
        type->element = parse_type(text.substr(4), models);
    } else if (starts("model:")) {
        type->kind = Type::Kind::model;
        auto it = models.find(text.substr(6));
        if (it == models.end()) {
            throw std::runtime_error("schema: unknown model " + std::string(text));
        }
        type->model = it->second.get();
    } else {
        static const std::map<std::string_view, Type::Kind> k_simple = {
            {"string", Type::Kind::string},     {"int32", Type::Kind::integer},
            {"int64", Type::Kind::integer},     {"number", Type::Kind::number},
            {"boolean", Type::Kind::boolean},   {"date-time", Type::Kind::date_time},
            {"any", Type::Kind::any},           {"int-or-string", Type::Kind::int_or_string},
            {"quantity", Type::Kind::quantity}, {"bytes", Type::Kind::bytes}};
        auto it = k_simple.find(text);
        if (it == k_simple.end()) {
            throw std::runtime_error("schema: unknown type " + std::string(text));
        }
        type->kind = it->second;
        type->wide = text == "int64";
    }
    return type;
}

// Go type names as encoding/json prints them in UnmarshalTypeError.
std::string go_type(const Type& type) {
    switch (type.kind) {
    case Type::Kind::string:
        return "string";
    case Type::Kind::integer:
        return type.wide ? "int64" : "int32";
    case Type::Kind::number:
        return "float64";
    case Type::Kind::boolean:
        return "bool";
    case Type::Kind::date_time:
        return "v1.Time";
    case Type::Kind::any:
        return "interface {}";
    case Type::Kind::int_or_string:
        return "intstr.IntOrString";
    case Type::Kind::quantity:
        return "resource.Quantity";
    case Type::Kind::bytes:
        return "[]uint8";
    case Type::Kind::list:
        return "[]" + go_type(*type.element);
    case Type::Kind::map:
        return "map[string]" + go_type(*type.element);
    case Type::Kind::model:
        return "v1." + type.model->go;
    }
    return "interface {}";
}

std::string json_kind(const json& value) {
    switch (value.type()) {
    case json::value_t::string:
        return "string";
    case json::value_t::boolean:
        return "bool";
    case json::value_t::array:
        return "array";
    case json::value_t::object:
        return "object";
    case json::value_t::number_float:
        return "number " + value.dump();
    default:
        return "number";
    }
}

std::string quantity_text(const json& number) {
    if (number.is_number_integer() || number.is_number_unsigned()) {
        return number.dump();
    }
    const double value = number.get<double>();
    const double milli = std::round(value * 1000.0);
    if (std::fmod(milli, 1000.0) == 0.0) {
        return std::to_string(static_cast<long long>(milli / 1000.0));
    }
    return std::to_string(static_cast<long long>(milli)) + "m";
}

class Decoder {
public:
    DecodeReport report;

    // `path` is the JSON path of `value` with list indices (unknown-field messages); `go_path` the dotted
    // struct field path without indices or map keys, and `owner` the Go struct holding `field`, as
    // encoding/json names them in an UnmarshalTypeError.
    void check(json& value, const Type& type, const std::string& path, const std::string& go_path,
               const std::string& owner, const std::string& field) {
        if (value.is_null()) {
            return; // null decodes to the zero value
        }
        auto mismatch = [&] {
            if (!report.error) {
                report.error = "json: cannot unmarshal " + json_kind(value) + " into Go struct field " +
                               owner + "." + go_path + " of type " + go_type(type);
            }
        };
        switch (type.kind) {
        case Type::Kind::string:
        case Type::Kind::date_time:
            if (!value.is_string()) {
                mismatch();
            }
            return;
        case Type::Kind::integer:
            if (!value.is_number_integer() && !value.is_number_unsigned()) {
                mismatch();
            }
            return;
        case Type::Kind::number:
            if (!value.is_number()) {
                mismatch();
            }
            return;
        case Type::Kind::boolean:
            if (!value.is_boolean()) {
                mismatch();
            }
            return;
        case Type::Kind::any:
            return;
        case Type::Kind::int_or_string:
            if (!value.is_string() && !value.is_number_integer() && !value.is_number_unsigned()) {
                mismatch();
            }
            return;
        case Type::Kind::quantity:
            if (value.is_number()) {
                value = quantity_text(value);
            } else if (!value.is_string()) {
                mismatch();
            }
            return;
        case Type::Kind::bytes:
            if (!value.is_string()) {
                mismatch();
            } else if (auto decoded = util::base64_decode(value.get_ref<const std::string&>()); !decoded) {
                if (!report.error) {
                    report.error = decoded.error().message;
                }
            }
            return;
        case Type::Kind::list:
            if (!value.is_array()) {
                mismatch();
                return;
            }
            for (size_t i = 0; i < value.size(); ++i) {
                check(value[i], *type.element, path + "[" + std::to_string(i) + "]", go_path, owner, field);
            }
            return;
        case Type::Kind::map:
            if (!value.is_object()) {
                mismatch();
                return;
            }
            for (auto it = value.begin(); it != value.end(); ++it) {
                check(it.value(), *type.element, path + "." + it.key(), go_path, owner, field);
            }
            return;
        case Type::Kind::model:
            if (!value.is_object()) {
                mismatch();
                return;
            }
            check_model(value, *type.model, path, go_path);
            return;
        }
    }

    void check_model(json& object, const Model& model, const std::string& path, const std::string& go_path) {
        std::vector<std::string> drop;
        for (auto it = object.begin(); it != object.end(); ++it) {
            const std::string child = path.empty() ? it.key() : path + "." + it.key();
            const Type* type = model.field(it.key());
            if (type == nullptr) {
                report.unknown_fields.push_back(child);
                drop.push_back(it.key());
            } else if (it.value().is_null()) {
                drop.push_back(it.key());
            } else {
                check(it.value(), *type, child, go_path.empty() ? it.key() : go_path + "." + it.key(),
                      model.go, it.key());
            }
        }
        for (const auto& key : drop) {
            object.erase(key);
        }
    }
};

} // namespace

const Type* Model::field(std::string_view name) const {
    auto it = fields.find(std::string(name));
    return it == fields.end() ? nullptr : &it->second;
}

PatchMeta Model::patch_meta(std::string_view name) const {
    auto it = patch.find(std::string(name));
    return it == patch.end() ? PatchMeta{} : it->second;
}

Schema::Schema(const json& document) {
    for (const auto& [name, body] : document.at("models").items()) {
        auto model = std::make_unique<Model>();
        model->name = name;
        model->go = body.at("go").get<std::string>();
        m_models.emplace(name, std::move(model));
    }
    for (const auto& [name, body] : document.at("models").items()) {
        Model& model = *m_models.at(name);
        for (const auto& [field, type_text] : body.at("fields").items()) {
            model.fields.emplace(field, *parse_type(type_text.get<std::string>(), m_models));
        }
        for (const auto& field : body.at("required")) {
            model.required.insert(field.get<std::string>());
        }
        for (const auto& [field, meta] : body.at("patch").items()) {
            model.patch.emplace(field,
                                PatchMeta{meta.at(0).get<std::string>(), meta.at(1).get<std::string>()});
        }
    }
    for (const auto& [kind, model] : document.at("kinds").items()) {
        m_kinds.emplace(kind, model.get<std::string>());
    }
}

const Schema& Schema::instance() {
    static const Schema k_schema(json::parse(k_schema_json));
    return k_schema;
}

const Model* Schema::model(std::string_view name) const {
    auto it = m_models.find(name);
    return it == m_models.end() ? nullptr : it->second.get();
}

const Model* Schema::model_for_kind(std::string_view api_version, std::string_view kind) const {
    auto it = m_kinds.find(std::string(api_version) + "/" + std::string(kind));
    return it == m_kinds.end() ? nullptr : model(it->second);
}

DecodeReport decode(json& object, const Model& model) {
    Decoder decoder;
    decoder.check_model(object, model, "", "");
    return std::move(decoder.report);
}

std::string unknown_fields_message(const std::vector<std::string>& fields) {
    std::string out;
    for (const auto& field : fields) {
        out += (out.empty() ? "" : ", ") + std::string("unknown field \"") + field + "\"";
    }
    return out;
}

} // namespace meshlink::fakekube::schema
