#pragma once
// Replacing small files so that a crash at any instant leaves either the old or the new content, never a
// mix: what the agent writes on a node (boot entries, unit files, its own records) must survive kill -9
// and power loss.

#include "util/error.hpp"
#include "util/fd.hpp"

#include <sys/types.h>

#include <filesystem>
#include <string_view>

namespace meshlink::util {

// Writes `content` to a temporary file in the same directory, fsyncs it, renames it over `path` and fsyncs
// the directory. An existing file keeps its mode; a new one gets `mode`. Missing parent directories are
// created 0755. Identical content writes nothing.
Result<> write_file_atomically(const std::filesystem::path& path, std::string_view content,
                               mode_t mode = 0644);

// Removes `path` (a file or a symlink) and fsyncs its directory; a missing file is not an error.
Result<> remove_file_durably(const std::filesystem::path& path);

// A readable descriptor positioned at the start of `data`, which exists in memory only: a memfd, or where the
// kernel has none an O_TMPFILE file (never named). Gone when the last descriptor closes, kill -9 included;
// for secrets handed to a child (SubprocessSpec::stdin_data) or read back by path (/proc/self/fd/N).
Result<Fd> memory_file(std::string_view data);

// Creates `link` pointing at `target` (replacing a different symlink there) and fsyncs its directory.
Result<> write_symlink_atomically(const std::filesystem::path& link, const std::filesystem::path& target);

} // namespace meshlink::util
