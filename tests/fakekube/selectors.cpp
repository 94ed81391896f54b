#include "tests/fakekube/selectors.hpp"

#include "tests/fakekube/names.hpp"
#include "tests/fakekube/resources.hpp"

#include <algorithm>
#include <cctype>

namespace meshlink::fakekube {
namespace {

using util::ErrorKind;
using util::fail;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

// Splits on commas outside parentheses.
std::vector<std::string_view> split_requirements(std::string_view text) {
    std::vector<std::string_view> out;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '(') {
            ++depth;
        } else if (text[i] == ')') {
            --depth;
        } else if (text[i] == ',' && depth == 0) {
            out.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    out.push_back(text.substr(start));
    return out;
}

std::string name_part_error(std::string_view name) {
    if (name.empty()) {
        return "name part must be non-empty";
    }
    if (name.size() > 63) {
        return "name part must be no more than 63 characters";
    }
    if (!names::is_qualified_name_part(name)) {
        return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
               "with an "
               "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
               "validation is "
               "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    }
    return {};
}

util::Result<LabelRequirement> parse_requirement(std::string_view text) {
    text = trim(text);
    LabelRequirement req;
    auto bad = [&](const std::string& why) {
        return fail(ErrorKind::bad_request, "unable to parse requirement: " + why);
    };
    if (text.empty()) {
        return bad("found '', expected: identifier");
    }
    if (text.front() == '!') {
        req.key = std::string(trim(text.substr(1)));
        req.op = LabelRequirement::Op::not_exists;
    } else {
        size_t key_end = 0;
        while (key_end < text.size() && !is_space(text[key_end]) && text[key_end] != '=' &&
               text[key_end] != '!' && text[key_end] != '>' && text[key_end] != '<') {
            ++key_end;
        }
        req.key = std::string(text.substr(0, key_end));
        std::string_view rest = trim(text.substr(key_end));
        auto take_value = [&](size_t skip) {
            std::string_view value = trim(rest.substr(skip));
            req.values = {std::string(value)};
        };
        if (rest.empty()) {
            req.op = LabelRequirement::Op::exists;
        } else if (rest.substr(0, 2) == "==") {
            req.op = LabelRequirement::Op::equals;
            take_value(2);
        } else if (rest.substr(0, 2) == "!=") {
            req.op = LabelRequirement::Op::not_equals;
            take_value(2);
        } else if (rest.front() == '=') {
            req.op = LabelRequirement::Op::equals;
            take_value(1);
        } else if (rest.front() == '>' || rest.front() == '<') {
            req.op =
                rest.front() == '>' ? LabelRequirement::Op::greater_than : LabelRequirement::Op::less_than;
            take_value(1);
            const auto& value = req.values.front();
            if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) {
                    return std::isdigit(static_cast<unsigned char>(c)) != 0;
                })) {
                return bad("for 'Gt', 'Lt' operators, the value must be an integer");
            }
        } else {
            const bool notin = rest.substr(0, 5) == "notin";
            const bool in = !notin && rest.substr(0, 2) == "in";
            if (!notin && !in) {
                return bad("found '" + std::string(rest.substr(0, 1)) +
                           "', expected: in, notin, =, ==, !=, gt, lt");
            }
            req.op = notin ? LabelRequirement::Op::not_in : LabelRequirement::Op::in;
            std::string_view set = trim(rest.substr(notin ? 5 : 2));
            if (set.size() < 2 || set.front() != '(' || set.back() != ')') {
                return bad("found '" + std::string(set) + "', expected: '('");
            }
            for (auto value : split_requirements(set.substr(1, set.size() - 2))) {
                req.values.emplace_back(trim(value));
            }
        }
    }
    if (auto error = label_key_error(req.key); !error.empty()) {
        return bad("key: Invalid value: \"" + req.key + "\": " + error);
    }
    for (const auto& value : req.values) {
        if (auto error = label_value_error(value); !error.empty()) {
            return bad("values[0][" + req.key + "]: Invalid value: \"" + value + "\": " + error);
        }
    }
    return req;
}

} // namespace

std::string label_key_error(std::string_view key) {
    if (key.empty()) {
        return "name part must be non-empty";
    }
    auto slash = key.find('/');
    if (slash != std::string_view::npos) {
        std::string_view prefix = key.substr(0, slash);
        if (prefix.size() > 253 || !names::is_dns1123_subdomain(prefix)) {
            return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                   "characters, '-' "
                   "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
                   "used for "
                   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
        }
        key = key.substr(slash + 1);
    }
    return name_part_error(key);
}

std::string label_value_error(std::string_view value) {
    if (value.size() > 63) {
        return "must be no more than 63 characters";
    }
    if (!value.empty() && !names::is_qualified_name_part(value)) {
        return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
               "'.', and "
               "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
               "'12345', regex "
               "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    }
    return {};
}

util::Result<LabelSelector> LabelSelector::parse(std::string_view text) {
    LabelSelector selector;
    if (trim(text).empty()) {
        return selector;
    }
    for (auto part : split_requirements(text)) {
        auto req = parse_requirement(part);
        if (!req) {
            return std::unexpected(req.error());
        }
        selector.m_requirements.push_back(std::move(*req));
    }
    return selector;
}

util::Result<LabelSelector> LabelSelector::from_object(const json& object) {
    LabelSelector selector;
    if (!object.is_object()) {
        return selector;
    }
    if (auto labels = object.find("matchLabels"); labels != object.end() && labels->is_object()) {
        for (const auto& [key, value] : labels->items()) {
            selector.m_requirements.push_back(
                {key, LabelRequirement::Op::equals, {value.get<std::string>()}});
        }
    }
    if (auto expressions = object.find("matchExpressions");
        expressions != object.end() && expressions->is_array()) {
        for (const auto& expression : *expressions) {
            LabelRequirement req;
            req.key = expression.value("key", "");
            const std::string op = expression.value("operator", "");
            if (op == "In") {
                req.op = LabelRequirement::Op::in;
            } else if (op == "NotIn") {
                req.op = LabelRequirement::Op::not_in;
            } else if (op == "Exists") {
                req.op = LabelRequirement::Op::exists;
            } else if (op == "DoesNotExist") {
                req.op = LabelRequirement::Op::not_exists;
            } else {
                return fail(ErrorKind::invalid, "\"" + op + "\" is not a valid label selector operator");
            }
            for (const auto& value : expression.value("values", json::array())) {
                req.values.push_back(value.get<std::string>());
            }
            selector.m_requirements.push_back(std::move(req));
        }
    }
    return selector;
}

bool LabelSelector::matches(const json& labels) const {
    for (const auto& req : m_requirements) {
        const bool has = labels.is_object() && labels.contains(req.key);
        const std::string value =
            has && labels[req.key].is_string() ? labels[req.key].get<std::string>() : "";
        auto in_set = [&] {
            return std::find(req.values.begin(), req.values.end(), value) != req.values.end();
        };
        bool ok = false;
        switch (req.op) {
        case LabelRequirement::Op::equals:
        case LabelRequirement::Op::in:
            ok = has && in_set();
            break;
        case LabelRequirement::Op::not_equals:
        case LabelRequirement::Op::not_in:
            ok = !has || !in_set();
            break;
        case LabelRequirement::Op::exists:
            ok = has;
            break;
        case LabelRequirement::Op::not_exists:
            ok = !has;
            break;
        case LabelRequirement::Op::greater_than:
        case LabelRequirement::Op::less_than: {
            if (!has || value.empty() || !std::all_of(value.begin(), value.end(), [](char c) {
                    return std::isdigit(static_cast<unsigned char>(c)) != 0;
                })) {
                ok = false;
                break;
            }
            const long long have = std::stoll(value);
            const long long want = std::stoll(req.values.front());
            ok = req.op == LabelRequirement::Op::greater_than ? have > want : have < want;
            break;
        }
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string field_value(const json& object, std::string_view field) {
    const json* node = &object;
    size_t start = 0;
    while (start <= field.size()) {
        size_t dot = field.find('.', start);
        std::string key(
            field.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
        if (!node->is_object() || !node->contains(key)) {
            return {};
        }
        node = &(*node)[key];
        if (dot == std::string_view::npos) {
            break;
        }
        start = dot + 1;
    }
    if (node->is_string()) {
        return node->get<std::string>();
    }
    if (node->is_boolean()) {
        return node->get<bool>() ? "true" : "false";
    }
    if (node->is_number()) {
        return node->dump();
    }
    return {};
}

util::Result<FieldSelector> FieldSelector::parse(std::string_view text, const ResourceInfo& resource) {
    // The fields each resource's GetAttrs exposes (pkg/registry/*/strategy.go).
    static const std::vector<std::string> k_common = {"metadata.name", "metadata.namespace"};
    std::vector<std::string> supported = k_common;
    if (resource.plural == "pods") {
        supported.insert(supported.end(), {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                           "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                                           "status.podIP", "status.nominatedNodeName"});
    } else if (resource.plural == "nodes") {
        supported.push_back("spec.unschedulable");
    } else if (resource.plural == "secrets") {
        supported.push_back("type");
    } else if (resource.plural == "namespaces") {
        supported.push_back("status.phase");
    } else if (resource.plural == "events") {
        supported.insert(supported.end(),
                         {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                          "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                          "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"});
    } else if (resource.plural == "jobs") {
        supported.push_back("status.successful");
    } else if (resource.plural == "services") {
        supported.push_back("spec.clusterIP");
        supported.push_back("spec.type");
    }
    FieldSelector selector;
    if (trim(text).empty()) {
        return selector;
    }
    for (auto part : split_requirements(text)) {
        part = trim(part);
        FieldRequirement req;
        size_t op = part.find_first_of("!=");
        if (op == std::string_view::npos) {
            return fail(ErrorKind::bad_request, "invalid selector: '" + std::string(text) +
                                                    "'; can't understand '" + std::string(part) + "'");
        }
        req.field = std::string(trim(part.substr(0, op)));
        if (part.substr(op, 2) == "!=") {
            req.negate = true;
            req.value = std::string(trim(part.substr(op + 2)));
        } else if (part.substr(op, 2) == "==") {
            req.value = std::string(trim(part.substr(op + 2)));
        } else if (part[op] == '=') {
            req.value = std::string(trim(part.substr(op + 1)));
        } else {
            return fail(ErrorKind::bad_request, "invalid selector: '" + std::string(text) +
                                                    "'; can't understand '" + std::string(part) + "'");
        }
        if (std::find(supported.begin(), supported.end(), req.field) == supported.end()) {
            return fail(ErrorKind::bad_request, "field label not supported: " + req.field);
        }
        selector.m_requirements.push_back(std::move(req));
    }
    return selector;
}

bool FieldSelector::matches(const ResourceInfo& resource, const json& object) const {
    for (const auto& req : m_requirements) {
        std::string value;
        if (req.field == "metadata.namespace" && !resource.namespaced) {
            value = "";
        } else if (req.field == "status.successful") {
            value = field_value(object, "status.succeeded");
        } else if (req.field == "spec.unschedulable" || req.field == "spec.hostNetwork") {
            value = field_value(object, req.field);
            value = value.empty() ? "false" : value;
        } else {
            value = field_value(object, req.field);
        }
        if ((value == req.value) == req.negate) {
            return false;
        }
    }
    return true;
}

} // namespace meshlink::fakekube
