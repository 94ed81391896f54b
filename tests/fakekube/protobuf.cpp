#include "tests/fakekube/protobuf.hpp"

#include "tests/fakekube/protobuf_fields.hpp"
#include "util/base64.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

#include <cstdint>
#include <cstring>
#include <ctime>
#include <optional>
#include <variant>

namespace meshlink::fakekube {
namespace {

constexpr std::string_view k_magic{"k8s\0", 4};

// One field as read off the wire.
struct WireField {
    int number = 0;
    int wire_type = 0;
    uint64_t varint = 0;    // wire types 0, 1 and 5
    std::string_view bytes; // wire type 2
};

class Reader {
public:
    explicit Reader(std::string_view data) : m_data(data) {}

    [[nodiscard]] bool done() const { return m_at >= m_data.size(); }

    // The next field, or nullopt with `error` set on malformed input.
    std::optional<WireField> next(std::string& error) {
        auto key = varint();
        if (!key) {
            error = "truncated field key";
            return std::nullopt;
        }
        WireField field;
        field.number = static_cast<int>(*key >> 3U);
        field.wire_type = static_cast<int>(*key & 7U);
        switch (field.wire_type) {
        case 0:
            if (auto value = varint()) {
                field.varint = *value;
                return field;
            }
            break;
        case 1:
        case 5: {
            const size_t width = field.wire_type == 1 ? 8 : 4;
            if (m_data.size() - m_at >= width) {
                uint64_t value = 0;
                std::memcpy(&value, m_data.data() + m_at, width); // little-endian host (x86-64, arm64)
                field.varint = value;
                m_at += width;
                return field;
            }
            break;
        }
        case 2:
            if (auto length = varint(); length && *length <= m_data.size() - m_at) {
                field.bytes = m_data.substr(m_at, *length);
                m_at += *length;
                return field;
            }
            break;
        default:
            error = "unsupported wire type " + std::to_string(field.wire_type) + " for field " +
                    std::to_string(field.number);
            return std::nullopt;
        }
        error = "truncated field " + std::to_string(field.number);
        return std::nullopt;
    }

private:
    std::string_view m_data;
    size_t m_at = 0;

    std::optional<uint64_t> varint() {
        uint64_t value = 0;
        for (int shift = 0; shift < 64 && m_at < m_data.size(); shift += 7) {
            const auto byte = static_cast<uint8_t>(m_data[m_at++]);
            value |= static_cast<uint64_t>(byte & 0x7FU) << static_cast<unsigned>(shift);
            if ((byte & 0x80U) == 0) {
                return value;
            }
        }
        return std::nullopt;
    }
};

struct Failure {
    std::string message;
};

std::string format_time(int64_t seconds, int32_t nanos, bool micro) {
    const auto time = std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
    std::string text = util::format_rfc3339(time);
    if (micro) {
        char fraction[16];
        std::snprintf(fraction, sizeof fraction, ".%06d", nanos / 1000);
        text.insert(text.size() - 1, fraction);
    }
    return text;
}

class Decoder {
public:
    std::optional<Failure> failure;

    json message(std::string_view name, std::string_view bytes) {
        const ProtoMessage* descriptor = proto_message(name);
        if (descriptor == nullptr) {
            fail("fakekube does not decode protobuf message " + std::string(name) +
                 "; send the object as JSON");
            return nullptr;
        }
        json out = json::object();
        Reader reader(bytes);
        while (!reader.done() && !failure) {
            std::string error;
            auto field = reader.next(error);
            if (!field) {
                fail("malformed protobuf in " + std::string(name) + ": " + error);
                break;
            }
            const ProtoField* spec = nullptr;
            for (const auto& candidate : descriptor->fields) {
                if (candidate.number == field->number) {
                    spec = &candidate;
                }
            }
            if (spec == nullptr) {
                fail("fakekube does not know field " + std::to_string(field->number) +
                     " of protobuf message " + std::string(name) +
                     " (not in Kubernetes 1.33, or not decoded by fakekube); send JSON");
                break;
            }
            add(out, *spec, *field, name);
        }
        // Fields absent from the wire that Go still writes as their zero value (not omitempty, not a
        // pointer).
        for (const auto& spec : descriptor->fields) {
            const std::string flags = spec.flags;
            if (out.contains(spec.json) || flags.find_first_of("OPRM") != std::string::npos) {
                continue;
            }
            if (const std::string type = spec.type; type == "string") {
                out[spec.json] = "";
            } else if (type == "int32" || type == "int64") {
                out[spec.json] = 0;
            } else if (type == "bool") {
                out[spec.json] = false;
            }
        }
        return out;
    }

private:
    void fail(std::string message) {
        if (!failure) {
            failure = Failure{std::move(message)};
        }
    }

    static bool is_zero(const json& value) {
        return (value.is_string() && value.get_ref<const std::string&>().empty()) ||
               (value.is_number() && value == 0) || (value.is_boolean() && !value.get<bool>());
    }

    // The value of one field of type `type` (never a repeated or map wrapper).
    json value(const std::string& type, const WireField& field, std::string_view owner) {
        auto expect = [&](int wire) {
            if (field.wire_type != wire) {
                fail("protobuf field " + std::to_string(field.number) + " of " + std::string(owner) +
                     " has wire type " + std::to_string(field.wire_type) + ", expected " +
                     std::to_string(wire));
                return false;
            }
            return true;
        };
        if (type == "string") {
            return expect(2) ? json(std::string(field.bytes)) : json();
        }
        if (type == "bytes") {
            return expect(2) ? json(util::base64_encode(field.bytes)) : json();
        }
        if (type == "int32") {
            return expect(0) ? json(static_cast<int32_t>(field.varint)) : json();
        }
        if (type == "int64") {
            return expect(0) ? json(static_cast<int64_t>(field.varint)) : json();
        }
        if (type == "bool") {
            return expect(0) ? json(field.varint != 0) : json();
        }
        if (type == "double") {
            if (!expect(1)) {
                return nullptr;
            }
            double number = 0;
            std::memcpy(&number, &field.varint, sizeof number);
            return number;
        }
        if (!expect(2)) {
            return nullptr;
        }
        if (type == "Time" || type == "MicroTime") {
            return time(field.bytes, type == "MicroTime");
        }
        if (type == "Duration") {
            json inner = scalars(field.bytes, owner);
            return util::format_duration(std::chrono::nanoseconds(inner.value("1", 0LL)));
        }
        if (type == "Quantity") {
            return std::string(scalars(field.bytes, owner).value("s1", ""));
        }
        if (type == "IntOrString") {
            json inner = scalars(field.bytes, owner);
            if (inner.value("1", 0LL) == 1) {
                return inner.value("s3", "");
            }
            return inner.value("2", 0LL);
        }
        if (type == "FieldsV1" || type == "RawExtension") {
            const std::string raw = scalars(field.bytes, owner).value("s1", "");
            json parsed = json::parse(raw, nullptr, false);
            if (parsed.is_discarded()) {
                fail(std::string(owner) + ": " + type + " holds no JSON");
                return nullptr;
            }
            return parsed;
        }
        if (type.front() == '!') {
            if (!field.bytes.empty()) {
                fail("fakekube does not decode protobuf message " + type.substr(1) + " (field " +
                     std::to_string(field.number) + " of " + std::string(owner) +
                     "); send the object as JSON");
            }
            return json::object();
        }
        return message(type, field.bytes);
    }

    // The scalar fields of a small helper message: "N" for varints, "sN" for bytes.
    json scalars(std::string_view bytes, std::string_view owner) {
        json out = json::object();
        Reader reader(bytes);
        while (!reader.done()) {
            std::string error;
            auto field = reader.next(error);
            if (!field) {
                fail("malformed protobuf in " + std::string(owner) + ": " + error);
                break;
            }
            if (field->wire_type == 2) {
                out["s" + std::to_string(field->number)] = std::string(field->bytes);
            } else {
                out[std::to_string(field->number)] = static_cast<int64_t>(field->varint);
            }
        }
        return out;
    }

    json time(std::string_view bytes, bool micro) {
        json inner = scalars(bytes, "Time");
        const int64_t seconds = inner.value("1", 0LL);
        const auto nanos = static_cast<int32_t>(inner.value("2", 0LL));
        // Go's zero time is year 1, which metav1.Time writes as null.
        if (seconds == 0 && nanos == 0) {
            return nullptr;
        }
        constexpr int64_t k_year_one = -62135596800LL;
        if (seconds == k_year_one) {
            return nullptr;
        }
        return format_time(seconds, nanos, micro);
    }

    void add(json& out, const ProtoField& spec, const WireField& field, std::string_view owner) {
        const std::string flags = spec.flags;
        const std::string type = spec.type;
        if (flags.find('M') != std::string::npos) {
            // map<string, V>: repeated entries {1: key, 2: value}.
            if (field.wire_type != 2) {
                fail("map field " + std::string(spec.json) + " of " + std::string(owner) + " is malformed");
                return;
            }
            std::string key;
            json entry_value = type == "string" || type == "bytes" ? json("") : json();
            Reader reader(field.bytes);
            while (!reader.done()) {
                std::string error;
                auto part = reader.next(error);
                if (!part) {
                    fail("malformed map entry in " + std::string(owner) + ": " + error);
                    return;
                }
                if (part->number == 1) {
                    key = std::string(part->bytes);
                } else if (part->number == 2) {
                    entry_value = value(type, *part, owner);
                }
            }
            json& map = out[spec.json];
            if (!map.is_object()) {
                map = json::object();
            }
            map[key] = std::move(entry_value);
            return;
        }
        if (flags.find('R') != std::string::npos) {
            json& list = out[spec.json];
            if (!list.is_array()) {
                list = json::array();
            }
            if (field.wire_type == 2 && (type == "int32" || type == "int64" || type == "bool")) {
                // A packed repeated scalar.
                for (size_t i = 0; i < field.bytes.size();) {
                    uint64_t item = 0;
                    int shift = 0;
                    while (i < field.bytes.size()) {
                        const auto byte = static_cast<uint8_t>(field.bytes[i++]);
                        item |= static_cast<uint64_t>(byte & 0x7FU) << static_cast<unsigned>(shift);
                        shift += 7;
                        if ((byte & 0x80U) == 0) {
                            break;
                        }
                    }
                    WireField one{field.number, 0, item, {}};
                    list.push_back(value(type, one, owner));
                }
                return;
            }
            list.push_back(value(type, field, owner));
            return;
        }
        json decoded = value(type, field, owner);
        const bool pointer = flags.find('P') != std::string::npos;
        const bool omitempty = flags.find('O') != std::string::npos;
        if (!pointer && omitempty && is_zero(decoded)) {
            out.erase(spec.json);
            return;
        }
        out[spec.json] = std::move(decoded);
    }
};

// "v1" -> "core.v1", "apps/v1" -> "apps.v1", "rbac.authorization.k8s.io/v1" -> "rbac.v1".
std::string message_for(std::string_view api_version, std::string_view kind) {
    const auto slash = api_version.find('/');
    if (kind == "DeleteOptions") {
        return "meta.v1.DeleteOptions";
    }
    if (slash == std::string_view::npos) {
        return "core." + std::string(api_version) + "." + std::string(kind);
    }
    const std::string_view group = api_version.substr(0, slash);
    return std::string(group.substr(0, group.find('.'))) + "." + std::string(api_version.substr(slash + 1)) +
           "." + std::string(kind);
}

} // namespace

std::optional<json> body_json(const Request& request, std::string& error) {
    const std::string& content_type = request.content_type;
    if (content_type.rfind(std::string(k_protobuf_media_type), 0) == 0) {
        auto decoded = decode_protobuf(request.body);
        if (auto* failed = std::get_if<ProtobufError>(&decoded)) {
            error = failed->message;
            return std::nullopt;
        }
        return std::get<json>(std::move(decoded));
    }
    json parsed = json::parse(request.body, nullptr, false);
    if (parsed.is_discarded()) {
        error = "json parse error";
        return std::nullopt;
    }
    return parsed;
}

bool protobuf_kind_supported(std::string_view api_version, std::string_view kind) {
    return proto_message(message_for(api_version, kind)) != nullptr;
}

std::variant<json, ProtobufError> decode_protobuf(std::string_view body) {
    if (body.substr(0, k_magic.size()) != k_magic) {
        return ProtobufError{false,
                             "provided data does not appear to be a protobuf message, expected prefix " +
                                 std::string("[107 56 115 0]")};
    }
    Reader envelope(body.substr(k_magic.size()));
    std::string api_version;
    std::string kind;
    std::string_view raw;
    std::string content_encoding;
    while (!envelope.done()) {
        std::string error;
        auto field = envelope.next(error);
        if (!field) {
            return ProtobufError{false, "malformed protobuf envelope: " + error};
        }
        if (field->number == 1 && field->wire_type == 2) {
            Reader type_meta(field->bytes);
            while (!type_meta.done()) {
                auto part = type_meta.next(error);
                if (!part) {
                    return ProtobufError{false, "malformed protobuf typeMeta: " + error};
                }
                if (part->number == 1) {
                    api_version = std::string(part->bytes);
                } else if (part->number == 2) {
                    kind = std::string(part->bytes);
                }
            }
        } else if (field->number == 2 && field->wire_type == 2) {
            raw = field->bytes;
        } else if (field->number == 3 && field->wire_type == 2) {
            content_encoding = std::string(field->bytes);
        }
    }
    if (kind.empty() || api_version.empty()) {
        return ProtobufError{false, "Object 'Kind' is missing in protobuf envelope"};
    }
    if (!content_encoding.empty()) {
        return ProtobufError{true, "fakekube does not decode protobuf bodies with contentEncoding " +
                                       content_encoding};
    }
    const std::string name = message_for(api_version, kind);
    if (proto_message(name) == nullptr) {
        return ProtobufError{
            true, "fakekube decodes protobuf bodies of the kinds kubectl's generator commands send, "
                  "not " +
                      api_version + "/" + kind + " (" + name + "); send it as JSON"};
    }
    Decoder decoder;
    json object = decoder.message(name, raw);
    if (decoder.failure) {
        return ProtobufError{false, decoder.failure->message};
    }
    json out = {{"apiVersion", api_version}, {"kind", kind}};
    out.update(object);
    return out;
}

} // namespace meshlink::fakekube
