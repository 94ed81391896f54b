#pragma once
// plugin/verify/tcp_probe.sh, embedded at build time (plugin/embed_text.cmake): what `verify` runs on each
// node.

#include <string_view>

namespace meshlink::plugin::verify {

std::string_view tcp_probe_script();

} // namespace meshlink::plugin::verify
