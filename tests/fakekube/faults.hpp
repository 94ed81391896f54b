#pragma once
// Fault injection: `--faults 'rate=0.2,status=500|503|429,reset=0.05,retry-after=1,seed=42'`.
// Each request (except /fakekube/*) draws once: with probability `reset` the connection is reset
// without an answer, else with probability `rate` it is answered with one of the `status` codes (a
// real-looking Status body; 429 and 503 carry Retry-After). The request is then not processed.

#include "tests/fakekube/status.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

namespace meshlink::fakekube {

struct FaultSpec {
    double rate = 0.0;
    std::vector<int> statuses = {500};
    double reset = 0.0;
    int retry_after = 1;
    std::optional<uint64_t> seed;

    [[nodiscard]] bool active() const { return rate > 0.0 || reset > 0.0; }
};

util::Result<FaultSpec> parse_faults(std::string_view text);

class FaultInjector {
public:
    enum class Action { none, fail, reset };
    struct Decision {
        Action action = Action::none;
        int status = 0;
    };

    explicit FaultInjector(FaultSpec spec);
    Decision decide();
    // The answer for an injected status, shaped as kube-apiserver sends it.
    [[nodiscard]] ApiError error_for(int status) const;

private:
    FaultSpec m_spec;
    std::mutex m_mutex;
    std::mt19937_64 m_rng;
};

} // namespace meshlink::fakekube
