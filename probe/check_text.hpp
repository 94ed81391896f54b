#pragma once
// Wording shared by the node checks (checks.cpp) and the feature checks (feature_checks.cpp): how kernels,
// distributions and lists are named in messages, and which way out a hint proposes.

#include "probe/checks.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::probe::detail {

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");
// The first `limit` items and how many more, so one line stays readable (the JSON facts have them all).
std::string join_some(const std::vector<std::string>& items, std::size_t limit = 5);
// "3.10.0-1160": the version and the distribution's build number, enough to recognise a vendor kernel.
std::string describe_kernel(const KernelRelease& kernel);
// PRETTY_NAME, else NAME VERSION_ID, else ID.
std::string distribution(const OsRelease& os);
// The Enterprise Linux major version (7, 8, 9, 10), from the kernel's ".elN" tag or os-release.
std::optional<int> el_major(const NodeFacts& facts);
// The way to a newer kernel on this distribution: the OS for EL7, meshlink's ELRepo upgrade for EL8+,
// the distribution's packages elsewhere.
std::string upgrade_hint(const NodeFacts& facts);
// "Cilium 1.18".
std::string cilium_label(CiliumVersion version);
// y passes; m passes unless the option must be built in.
bool option_present(OptionState state, bool must_be_builtin);

// The check of one optional datapath feature (feature_checks.cpp).
Check feature_check(const NodeFacts& facts, const FeatureRequirement& feature);

} // namespace meshlink::probe::detail
