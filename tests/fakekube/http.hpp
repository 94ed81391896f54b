#pragma once
// Transport-independent request and response types: the API logic sees these, never Beast.

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace meshlink::fakekube {

using json = nlohmann::json;

// Who is asking, after authentication.
struct Identity {
    std::string user;
    std::string uid;
    std::vector<std::string> groups;
    // Extra user information, as authenticators set it (pod-bound ServiceAccount tokens: pod and node names
    // and uids under authentication.kubernetes.io/); admission policies read it as request.userInfo.extra.
    std::map<std::string, std::vector<std::string>> extra;
};

struct Request {
    std::string method;                            // GET, POST, PUT, PATCH, DELETE
    std::string path;                              // percent-decoded, without the query
    std::multimap<std::string, std::string> query; // repeated keys kept (exec's command=...)
    std::string content_type;
    std::string accept;
    std::string body;
    Identity identity;

    // The first value of a query parameter, or "" when absent.
    [[nodiscard]] std::string param(const std::string& key) const {
        auto it = query.find(key);
        return it == query.end() ? std::string() : it->second;
    }
    [[nodiscard]] std::vector<std::string> params(const std::string& key) const {
        std::vector<std::string> out;
        for (auto [it, end] = query.equal_range(key); it != end; ++it) {
            out.push_back(it->second);
        }
        return out;
    }
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; // extra headers, e.g. Warning

    static Response json_body(int status, const json& body) {
        Response response;
        response.status = status;
        response.body = body.dump();
        return response;
    }
    static Response text(int status, std::string body) {
        Response response;
        response.status = status;
        response.content_type = "text/plain; charset=utf-8";
        response.body = std::move(body);
        return response;
    }
};

} // namespace meshlink::fakekube
