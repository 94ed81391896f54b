#pragma once
// Every name, selector, annotation key, port and timeout kubectl-meshlink uses, written once.

#include <chrono>
#include <string_view>

namespace meshlink::plugin::defaults {

inline constexpr std::string_view k_plugin_name = "meshlink";
inline constexpr std::string_view k_binary_prefix = "kubectl-"; // argv[0] prefix when kubectl runs us

} // namespace meshlink::plugin::defaults
