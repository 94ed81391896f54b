#pragma once
// The flags `probe` and `serve` share: where the host's files are (--root, --proc, --sys), which Cilium
// release to judge for (--cilium-version) and whether to keep every capability (--keep-capabilities).

#include "probe/host.hpp"
#include "probe/requirements.hpp"

#include <cxxopts.hpp>

namespace meshlink::agent::cli {

// --root, --proc and --sys (each an existing directory, else a usage error), --mountinfo (an existing file),
// or the in-pod defaults.
probe::Host host_flags(const cxxopts::ParseResult& flags);

// --cilium-version X.Y (a usage error when malformed), or the newest release the probe knows.
probe::CiliumVersion cilium_version_flag(const cxxopts::ParseResult& flags);

// Adds --keep-capabilities to `options`.
void add_capabilities_flag(cxxopts::OptionAdder&& options);

// Drops the capabilities the running kernel does not need (node-agent/privileges/capabilities.hpp) unless
// --keep-capabilities was given. Call it before any probe, network work or thread.
void drop_capabilities_unless_kept(const cxxopts::ParseResult& flags);

} // namespace meshlink::agent::cli
