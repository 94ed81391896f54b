#include "tests/fakekube/auth.hpp"

#include <fstream>
#include <sstream>
#include <vector>

namespace meshlink::fakekube {
namespace {

// One CSV record with double-quoted fields ("" is a literal quote).
util::Result<std::vector<std::string>> split_csv(const std::string& line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                fields.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                fields.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.emplace_back();
        } else {
            fields.back() += c;
        }
    }
    if (quoted) {
        return util::fail(util::ErrorKind::parse, "unterminated quote");
    }
    return fields;
}

} // namespace

util::Result<TokenFile> TokenFile::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return util::fail(util::ErrorKind::io, path + ": cannot open token file");
    }
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
}

util::Result<TokenFile> TokenFile::parse(const std::string& text, const std::string& origin) {
    TokenFile file;
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    while (std::getline(lines, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty() || line.front() == '#') {
            continue;
        }
        auto fields = split_csv(line);
        const std::string where = origin + ":" + std::to_string(number);
        if (!fields) {
            return util::fail(util::ErrorKind::parse, where + ": " + fields.error().message);
        }
        if (fields->size() < 3 || (*fields)[0].empty() || (*fields)[1].empty()) {
            return util::fail(util::ErrorKind::parse,
                              where + ": expected token,user,uid[,\"group1,group2\"]");
        }
        Identity identity{(*fields)[1], (*fields)[2], {}, {}};
        if (fields->size() >= 4) {
            std::istringstream groups((*fields)[3]);
            std::string group;
            while (std::getline(groups, group, ',')) {
                if (!group.empty()) {
                    identity.groups.push_back(group);
                }
            }
        }
        identity.groups.push_back("system:authenticated");
        file.m_tokens[(*fields)[0]] = std::move(identity);
    }
    return file;
}

std::optional<Identity> TokenFile::find(const std::string& token) const {
    auto it = m_tokens.find(token);
    if (it == m_tokens.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::optional<std::string> bearer_token(const std::string& authorization) {
    static const std::string k_prefix = "Bearer ";
    if (authorization.size() <= k_prefix.size() || authorization.compare(0, k_prefix.size(), k_prefix) != 0) {
        return std::nullopt;
    }
    std::string token = authorization.substr(k_prefix.size());
    while (!token.empty() && token.front() == ' ') {
        token.erase(0, 1);
    }
    while (!token.empty() && token.back() == ' ') {
        token.pop_back();
    }
    return token.empty() ? std::nullopt : std::optional<std::string>(token);
}

} // namespace meshlink::fakekube
