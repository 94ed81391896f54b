#pragma once
// The flags `probe` and `serve` share: where the host's files are (--root, --proc, --sys) and which Cilium
// release to judge for (--cilium-version).

#include "probe/host.hpp"
#include "probe/requirements.hpp"

#include <cxxopts.hpp>

namespace meshlink::agent::cli {

// --root, --proc and --sys (each an existing directory, else a usage error), --mountinfo (an existing file),
// or the in-pod defaults.
probe::Host host_flags(const cxxopts::ParseResult& flags);

// --cilium-version X.Y (a usage error when malformed), or the newest release the probe knows.
probe::CiliumVersion cilium_version_flag(const cxxopts::ParseResult& flags);

} // namespace meshlink::agent::cli
