#include "tests/fakekube/leases.hpp"

#include "tests/fakekube/resources.hpp"

namespace meshlink::fakekube {
namespace {

constexpr std::string_view k_micro_layout = "2006-01-02T15:04:05.000000Z07:00";

bool digits(std::string_view text, std::size_t pos, std::size_t count) {
    if (pos + count > text.size()) {
        return false;
    }
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
    }
    return true;
}

// Go's time.Parse with the MicroTime layout, as far as the shape goes: the error names the part of the value
// that did not match and the layout element it was matched against, as time.ParseError does.
std::optional<std::string> micro_time_error(std::string_view value) {
    auto error = [&](std::string_view rest, std::string_view element) {
        return "parsing time " + go_quote(value) + " as " + go_quote(k_micro_layout) + ": cannot parse " +
               go_quote(rest) + " as " + go_quote(element);
    };
    // Date and time of day: "2006-01-02T15:04:05".
    const bool date_ok = digits(value, 0, 4) && value.size() > 4 && value[4] == '-' && digits(value, 5, 2) &&
                         value.size() > 7 && value[7] == '-' && digits(value, 8, 2) && value.size() > 10 &&
                         value[10] == 'T' && digits(value, 11, 2) && value.size() > 13 && value[13] == ':' &&
                         digits(value, 14, 2) && value.size() > 16 && value[16] == ':' &&
                         digits(value, 17, 2);
    if (!date_ok) {
        return error(value, "2006");
    }
    const std::string_view rest = value.substr(19);
    if (rest.size() < 7 || rest[0] != '.' || !digits(rest, 1, 6)) {
        return error(rest, ".000000");
    }
    const std::string_view zone = rest.substr(7);
    const bool zone_ok = zone == "Z" || (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
                                         digits(zone, 1, 2) && zone[3] == ':' && digits(zone, 4, 2));
    if (!zone_ok) {
        return error(zone, "Z07:00");
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> lease_decode_error(const ResourceInfo& resource, const json& object) {
    if (resource.kind != "Lease" || !object.is_object()) {
        return std::nullopt;
    }
    const auto spec = object.find("spec");
    if (spec == object.end() || !spec->is_object()) {
        return std::nullopt;
    }
    for (const char* field : {"acquireTime", "renewTime"}) {
        const auto value = spec->find(field);
        // Not a string at all is the schema's error; null is the zero time.
        if (value != spec->end() && value->is_string()) {
            if (auto error = micro_time_error(value->get_ref<const std::string&>())) {
                return error;
            }
        }
    }
    return std::nullopt;
}

std::vector<Cause> lease_causes(const json& object) {
    std::vector<Cause> causes;
    const json spec = object.value("spec", json::object());
    if (!spec.is_object()) {
        return causes;
    }
    const auto integer = [&](const char* field) -> std::optional<std::int64_t> {
        const auto value = spec.find(field);
        if (value == spec.end() || !value->is_number_integer()) {
            return std::nullopt;
        }
        return value->get<std::int64_t>();
    };
    if (auto duration = integer("leaseDurationSeconds"); duration && *duration <= 0) {
        causes.push_back({Cause::Type::invalid, "spec.leaseDurationSeconds", std::to_string(*duration),
                          "must be greater than 0"});
    }
    if (auto transitions = integer("leaseTransitions"); transitions && *transitions < 0) {
        causes.push_back({Cause::Type::invalid, "spec.leaseTransitions", std::to_string(*transitions),
                          "must be greater than or equal to 0"});
    }
    return causes;
}

} // namespace meshlink::fakekube
