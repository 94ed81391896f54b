#include "util/suggest.hpp"

#include <algorithm>
#include <limits>

namespace meshlink::util {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions
// ("jion" -> "join") each cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) {
        d[i][0] = i;
    }
    for (std::size_t j = 0; j <= b.size(); ++j) {
        d[0][j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

} // namespace

std::optional<std::string> closest_match(std::string_view input,
                                         const std::vector<std::string_view>& candidates) {
    if (input.empty()) {
        return std::nullopt;
    }
    std::vector<std::string_view> prefixed;
    for (auto candidate : candidates) {
        if (candidate.starts_with(input)) {
            prefixed.push_back(candidate);
        }
    }
    if (prefixed.size() == 1) {
        return std::string(prefixed.front());
    }
    std::size_t best = std::numeric_limits<std::size_t>::max();
    std::optional<std::string> match;
    for (auto candidate : candidates) {
        const std::size_t distance = edit_distance(input, candidate);
        if (distance < best) {
            best = distance;
            match = std::string(candidate);
        }
    }
    const std::size_t allowed = std::max<std::size_t>(1, input.size() / 3);
    return best <= allowed ? match : std::nullopt;
}

} // namespace meshlink::util
