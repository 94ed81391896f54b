#pragma once
// Authentication: client certificates signed by fakekube's CA (user = CN, groups = O) and bearer
// tokens from a static token file in kube-apiserver's --token-auth-file format:
//   token,user,uid,"group1,group2"
// one per line; the groups column is optional, blank lines and lines starting with '#' are skipped.

#include "tests/fakekube/http.hpp"
#include "util/error.hpp"

#include <map>
#include <optional>
#include <string>

namespace meshlink::fakekube {

class TokenFile {
public:
    static util::Result<TokenFile> load(const std::string& path);
    static util::Result<TokenFile> parse(const std::string& text, const std::string& origin);

    [[nodiscard]] std::optional<Identity> find(const std::string& token) const;

private:
    std::map<std::string, Identity> m_tokens;
};

// "Bearer <token>" -> token; nullopt for other schemes.
std::optional<std::string> bearer_token(const std::string& authorization);

} // namespace meshlink::fakekube
