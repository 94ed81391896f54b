#pragma once
// Standard base64 (RFC 4648 alphabet, '=' padding), decoded as strictly as Go's encoding/base64 StdEncoding:
// padding is required, CR and LF are skipped anywhere, every other character outside the alphabet, bad
// padding and data after padding are errors ("illegal base64 data at input byte N").

#include "util/error.hpp"

#include <string>
#include <string_view>

namespace meshlink::util {

// How an error names the offending byte. The two conventions are the two ways the Kubernetes tools we
// follow report the same decoding error, and tests pin both.
enum class Base64Offsets {
    // N counts every byte of the text; a short final group is reported at its first byte. What the API
    // server says for Secret data (Go's Decode on the raw bytes).
    raw,
    // N counts the bytes other than CR and LF; a short final group is reported at the end of the text,
    // "(length is not a multiple of 4)" added. What kubectl's messages say for kubeconfig *-data fields.
    without_line_breaks,
};

std::string base64_encode(std::string_view bytes);

// The bytes `text` encodes, or why it is not base64 (kind parse).
Result<std::string> base64_decode(std::string_view text, Base64Offsets offsets = Base64Offsets::raw);

// base64_decode without keeping the bytes: one table lookup per character for valid text, the decoder's
// exact error otherwise.
Result<> base64_validate(std::string_view text, Base64Offsets offsets = Base64Offsets::raw);

} // namespace meshlink::util
