#pragma once
// Label selectors (`=`, `==`, `!=`, `in`, `notin`, exists, `!`exists, `>`, `<`) and field selectors
// (`=`, `==`, `!=` on the fields each resource supports), parsed and matched like apimachinery does.

#include "tests/fakekube/http.hpp"
#include "util/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace meshlink::fakekube {

struct ResourceInfo;

struct LabelRequirement {
    enum class Op { equals, not_equals, in, not_in, exists, not_exists, greater_than, less_than };
    std::string key;
    Op op = Op::exists;
    std::vector<std::string> values;
};

class LabelSelector {
public:
    // Parses the query-string form; an empty text selects everything.
    static util::Result<LabelSelector> parse(std::string_view text);
    // Builds one from a metav1.LabelSelector object (matchLabels + matchExpressions). A null or empty
    // object selects everything, as for PodDisruptionBudgets (Deployments reject it in validation).
    static util::Result<LabelSelector> from_object(const json& selector);

    [[nodiscard]] bool matches(const json& labels) const;
    [[nodiscard]] bool empty() const { return m_requirements.empty(); }
    [[nodiscard]] const std::vector<LabelRequirement>& requirements() const { return m_requirements; }

private:
    std::vector<LabelRequirement> m_requirements;
};

struct FieldRequirement {
    std::string field;
    bool negate = false;
    std::string value;
};

class FieldSelector {
public:
    // Parses and checks every field against what `resource` supports; the error text is the real
    // server's ("field label not supported: spec.foo").
    static util::Result<FieldSelector> parse(std::string_view text, const ResourceInfo& resource);

    [[nodiscard]] bool matches(const ResourceInfo& resource, const json& object) const;
    [[nodiscard]] bool empty() const { return m_requirements.empty(); }

private:
    std::vector<FieldRequirement> m_requirements;
};

// The value of a selectable field of `object` ("" when unset).
std::string field_value(const json& object, std::string_view field);

// Label key and value syntax (qualified names, 63-character values), shared with validation.
// Each returns the real server's error detail, or "" when the text is valid.
std::string label_key_error(std::string_view key);
std::string label_value_error(std::string_view value);

} // namespace meshlink::fakekube
