#pragma once
// What -v 7/8 may show of requests and responses. Credentials (Authorization and similar headers, tokens,
// passwords, private keys) and Secret data never reach a log; the shape of the data stays visible so a
// log is still useful ("data": {"ca.crt": "<redacted>"}).

#include <string>
#include <string_view>

namespace meshlink::kube {

inline constexpr std::string_view k_redacted = "<redacted>";

// True for headers that carry credentials (Authorization, Proxy-Authorization, Cookie, Set-Cookie, ...).
bool is_sensitive_header(std::string_view name);

// "Authorization: Bearer <redacted>" style: the scheme stays, the credential goes.
std::string redact_header_value(std::string_view name, std::string_view value);

// `url` with any user information (`user:password@` of a proxy-url or server) replaced by `replacement`
// ("http://<redacted>@proxy:3128"), for messages, logs and listings. Everything from "://" to the last '@'
// counts as user information, so a password holding an unencoded '/' or '@' is hidden too.
std::string redact_url(std::string_view url, std::string_view replacement = k_redacted);

// `text` (an error message from libcurl, say) with every "scheme://...@" URL in it passed through
// redact_url; a URL ends at whitespace or a quote.
std::string redact_urls_in_text(std::string_view text);

// A loggable form of a request or response body for `path`. JSON bodies keep their structure with these
// values replaced: data/stringData of Secrets (by kind, in SecretLists, and any body sent to a secrets
// path, such as a patch), the last-applied-configuration annotation of Secrets, and fields named token,
// password, clientKeyData, client-key-data, privateKey. Bodies that are not JSON are summarised by size.
std::string redact_body(std::string_view path, std::string_view body);

} // namespace meshlink::kube
