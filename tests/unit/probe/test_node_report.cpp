// The node report's one reader (probe/node_report.hpp): what it accepts, what it refuses and why, and the
// staleness rule with and without Leases. Reports are data a node chose, so most cases here are hostile.

#include "probe/node_report.hpp"
#include "util/rfc3339.hpp"

#include <boost/test/unit_test.hpp>

#include <limits>
#include <string>

using namespace meshlink;
using nlohmann::json;

namespace {

using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

const Clock::time_point k_now = Clock::from_time_t(1714567890); // 2024-05-01T12:51:30Z

json document(const std::string& node = "n1", Clock::time_point observed = k_now - 60s) {
    return {{"schemaVersion", 1},
            {"node", node},
            {"observedAt", util::format_rfc3339(observed)},
            {"intervalSeconds", 600},
            {"ciliumVersion", "1.16"},
            {"facts", {{"kernel", {{"release", "6.1.0"}}}}},
            {"checks", json::array({{{"id", "node.kernel.version"}, {"status", "fail"}, {"message", "m"}},
                                    {{"id", "node.bpffs"}, {"status", "pass"}, {"hint", nullptr}}})}};
}

json node(const std::string& name, const std::optional<std::string>& annotation,
          const json& labels = json::object()) {
    json metadata = {{"name", name}, {"labels", labels}};
    if (annotation) {
        metadata["annotations"] = {{"meshlink.io/node-report", *annotation}};
    }
    return {{"metadata", metadata}};
}

json lease(const std::string& node, Clock::time_point renewed, int duration = 1800) {
    return {{"metadata", {{"name", probe::lease_name(node)}, {"namespace", "meshlink-system"}}},
            {"spec",
             {{"holderIdentity", node},
              {"leaseDurationSeconds", duration},
              {"renewTime", util::format_rfc3339_micro(renewed)}}}};
}

std::string nested(int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']');
}

struct Refused {
    std::string what;    // for the failure message
    std::string text;    // the annotation
    std::string problem; // part of the reason given
};

// The same document with one field replaced (or removed when `value` is discarded).
std::string with(const std::string& key, const json& value) {
    json doc = document();
    if (value.is_discarded()) {
        doc.erase(key);
    } else {
        doc[key] = value;
    }
    return doc.dump();
}

const json k_removed = json(json::value_t::discarded);

} // namespace

BOOST_AUTO_TEST_SUITE(node_report_reader)

BOOST_AUTO_TEST_CASE(accepts_the_agents_document_and_ignores_added_fields) {
    json doc = document();
    doc["addedByALaterAgent"] = {{"x", 1}};
    doc["node"] = nullptr; // an agent that knew no node name
    const auto parsed = probe::parse_report(doc.dump());
    BOOST_TEST_REQUIRE(parsed.report.has_value(), parsed.problem);
    BOOST_TEST(parsed.report->interval.count() == 600);
    BOOST_TEST(parsed.report->cilium_version == "1.16");
    BOOST_TEST(parsed.report->node.empty());
    BOOST_TEST((parsed.report->observed_at == k_now - 60s));
    BOOST_REQUIRE(parsed.report->checks.size() == 2u);
    BOOST_TEST((parsed.report->checks[0].status == probe::Status::fail));

    // Without intervalSeconds the agent's default is assumed.
    const auto plain = probe::parse_report(with("intervalSeconds", k_removed));
    BOOST_TEST_REQUIRE(plain.report.has_value(), plain.problem);
    BOOST_TEST(plain.report->interval.count() == 600);
}

BOOST_AUTO_TEST_CASE(refuses_each_wrong_field_with_a_reason) {
    const std::vector<Refused> table{
        {"not JSON", "{oops", "not JSON"},
        {"an array", "[1,2]", "an array, not a JSON object"},
        {"a string", "\"report\"", "a string, not a JSON object"},
        {"no schemaVersion", with("schemaVersion", k_removed), "no schemaVersion"},
        {"unknown schemaVersion", with("schemaVersion", 2), "schemaVersion 2 is not 1"},
        {"huge schemaVersion", with("schemaVersion", std::numeric_limits<std::uint64_t>::max()),
         "schemaVersion 18446744073709551615"},
        {"schemaVersion as text", with("schemaVersion", "1"), "schemaVersion: want a number, got a string"},
        {"no observedAt", with("observedAt", k_removed), "no observedAt"},
        {"observedAt a number", with("observedAt", 1714567890), "observedAt: want a string, got a number"},
        {"observedAt not a time", with("observedAt", "yesterday"), "observedAt is not an RFC 3339 time"},
        {"observedAt past the clock", with("observedAt", "9999-12-31T23:59:59Z"), "between 1678 and 2261"},
        {"intervalSeconds as text", with("intervalSeconds", "600"), "intervalSeconds: want a whole number"},
        {"intervalSeconds fractional", with("intervalSeconds", 600.5), "got a fractional number"},
        {"intervalSeconds zero", with("intervalSeconds", 0), "intervalSeconds 0 is outside 1..604800"},
        {"intervalSeconds negative", with("intervalSeconds", -600), "intervalSeconds -600 is outside"},
        {"intervalSeconds INT64_MAX", with("intervalSeconds", std::numeric_limits<std::int64_t>::max()),
         "intervalSeconds 9223372036854775807 is outside"},
        {"intervalSeconds UINT64_MAX", with("intervalSeconds", std::numeric_limits<std::uint64_t>::max()),
         "intervalSeconds 18446744073709551615 is outside"},
        {"ciliumVersion a number", with("ciliumVersion", 5), "ciliumVersion: want a string, got a number"},
        {"ciliumVersion null", with("ciliumVersion", nullptr), "ciliumVersion: want a string, got a null"},
        {"node a number", with("node", 7), "node: want a string"},
        {"facts an array", with("facts", json::array()), "facts: want an object, got an array"},
        {"checks an object", with("checks", json::object()), "checks: want an array"},
        {"a check not an object", with("checks", json::array({5})), "checks[0]: want an object"},
        {"a check without id", with("checks", json::array({{{"status", "pass"}}})), "checks[0].id"},
        {"a check with an odd status", with("checks", json::array({{{"id", "x"}, {"status", "great"}}})),
         "checks[0].status: want pass, warn, fail or unknown"},
        {"a check message a number",
         with("checks", json::array({{{"id", "x"}, {"status", "pass"}, {"message", 5}}})),
         "checks[0].message: want a string or null"},
        {"nested too deep", with("facts", json::parse("{\"x\":" + nested(31) + "}")), "nested more than 32"},
        {"100,000 levels", with("facts", k_removed).insert(1, "\"facts\":" + nested(100000) + ","),
         "nested more than 32"},
        {"too large", with("padding", std::string(256 * 1024, 'x')), "more than the 262144"},
    };
    for (const auto& row : table) {
        const auto parsed = probe::parse_report(row.text);
        BOOST_TEST(!parsed.report.has_value(), row.what);
        BOOST_TEST(parsed.problem.find(row.problem) != std::string::npos,
                   row.what << ": \"" << parsed.problem << "\" lacks \"" << row.problem << "\"");
        // The reason never quotes the node's text (it may be huge or hostile).
        BOOST_TEST(parsed.problem.size() < 200u, row.what);
    }
    // 32 levels are fine: the limit is not off by one.
    BOOST_TEST(
        probe::parse_report(with("facts", json::parse("{\"x\":" + nested(30) + "}"))).report.has_value());
}

BOOST_AUTO_TEST_CASE(a_report_is_fresh_for_three_intervals_without_a_lease) {
    const probe::LeaseIndex no_leases;
    auto at = [&](Clock::duration age) {
        return probe::read_node(node("n1", document("n1", k_now - age).dump()), no_leases, k_now);
    };
    const auto at_limit = at(1800s);
    BOOST_TEST(probe::to_string(at_limit.state) == "fresh");
    BOOST_TEST(probe::to_string(at_limit.liveness) == "observedAt");
    BOOST_TEST(at_limit.liveness_note.find("no Lease") != std::string::npos, at_limit.liveness_note);
    BOOST_TEST(at_limit.age_seconds.value_or(-1) == 1800);
    BOOST_TEST(probe::to_string(at(1801s).state) == "stale");
    // A time in the future is no age, not a negative one.
    BOOST_TEST(at(-3600s).age_seconds.value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(the_lease_keeps_an_unchanged_report_fresh) {
    probe::LeaseIndex leases;
    leases.add(lease("n1", k_now - 100s));          // renewed 100 s ago, held for 1800 s
    leases.add(lease("n2", k_now - 1801s));         // expired
    leases.add(lease("n3", k_now - 1800s));         // expires right now
    leases.add(lease("someone-else", k_now - 10s)); // another node's
    leases.add({{"metadata", {{"name", "not-an-agent-lease"}}}, {"spec", json::object()}});
    BOOST_TEST(leases.size() == 4u);
    const std::string old_report = "2024-04-01T00:00:00Z"; // a month old: only the Lease says it is alive
    auto report = [&](const std::string& name, const std::string& observed) {
        json doc = document(name);
        doc["observedAt"] = observed;
        return node(name, doc.dump());
    };

    const auto alive = probe::read_node(report("n1", old_report), leases, k_now);
    BOOST_TEST(probe::to_string(alive.state) == "fresh");
    BOOST_TEST(probe::to_string(alive.liveness) == "lease");
    BOOST_TEST(alive.liveness_note.empty());
    BOOST_TEST(alive.age_seconds.value_or(-1) == 100);
    BOOST_TEST(probe::to_string(probe::read_node(report("n2", old_report), leases, k_now).state) == "stale");
    BOOST_TEST(probe::to_string(probe::read_node(report("n3", old_report), leases, k_now).state) == "fresh");
    // An expired Lease next to a report just written: the report vouches for the agent.
    const auto rewritten = probe::read_node(report("n2", util::format_rfc3339(k_now - 5s)), leases, k_now);
    BOOST_TEST(probe::to_string(rewritten.state) == "fresh");
    BOOST_TEST(rewritten.age_seconds.value_or(-1) == 5);

    // A Lease held by another identity does not count.
    json stolen = lease("n4", k_now - 10s);
    stolen["spec"]["holderIdentity"] = "n5";
    leases.add(stolen);
    const auto n4 = probe::read_node(report("n4", old_report), leases, k_now);
    BOOST_TEST(probe::to_string(n4.state) == "stale");
    BOOST_TEST(probe::to_string(n4.liveness) == "observedAt");
    BOOST_TEST(n4.liveness_note.find("another identity") != std::string::npos, n4.liveness_note);
    // Nor does one without a readable renewTime or duration.
    for (const json& broken : {json{{"renewTime", "soon"}}, json{{"leaseDurationSeconds", 0}},
                               json{{"leaseDurationSeconds", "1800"}}}) {
        json odd = lease("n6", k_now - 10s);
        odd["spec"].update(broken);
        leases.add(odd);
        const auto n6 = probe::read_node(report("n6", old_report), leases, k_now);
        BOOST_TEST(probe::to_string(n6.state) == "stale", broken.dump());
        BOOST_TEST(n6.liveness_note.find("the Lease's spec.") != std::string::npos, n6.liveness_note);
    }

    // Leases that could not be listed: observedAt decides, and the note says why.
    probe::LeaseIndex forbidden;
    forbidden.add(lease("n1", k_now - 100s));
    forbidden.set_unavailable("403 Forbidden");
    const auto judged = probe::read_node(report("n1", old_report), forbidden, k_now);
    BOOST_TEST(probe::to_string(judged.state) == "stale");
    BOOST_TEST(judged.liveness_note == "Leases not readable: 403 Forbidden");
}

// INT64_MAX and friends: no overflow anywhere, and a verdict a person can act on.
BOOST_AUTO_TEST_CASE(arithmetic_on_hostile_numbers_saturates) {
    const probe::LeaseIndex none;
    json doc = document();
    doc["intervalSeconds"] = std::numeric_limits<std::int64_t>::max();
    const auto huge = probe::read_node(node("n1", doc.dump()), none, k_now);
    BOOST_TEST(probe::to_string(huge.state) == "invalid");
    BOOST_TEST(huge.problem.find("intervalSeconds 9223372036854775807 is outside") != std::string::npos,
               huge.problem);

    // The longest interval, the oldest and the newest times the clock holds, the longest Lease.
    doc["intervalSeconds"] = 7 * 24 * 3600;
    doc["observedAt"] = "1678-01-01T00:00:00Z";
    const auto ancient = probe::read_node(node("n1", doc.dump()), none, k_now);
    BOOST_TEST(probe::to_string(ancient.state) == "stale");
    BOOST_TEST(ancient.age_seconds.value_or(0) > 10'000'000'000); // 346 years, no overflow
    doc["observedAt"] = "2261-12-31T23:59:59Z";
    probe::LeaseIndex far;
    far.add(lease("n1", *util::parse_rfc3339_time("2261-12-31T23:59:59.999999Z"),
                  std::numeric_limits<std::int32_t>::max()));
    const auto future = probe::read_node(node("n1", doc.dump()), far, k_now);
    BOOST_TEST(probe::to_string(future.state) == "fresh");
    BOOST_TEST(future.age_seconds.value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(reads_labels_and_refuses_what_is_not_the_nodes_report) {
    const probe::LeaseIndex none;
    const auto bare = probe::read_node(node("bare", std::nullopt, {{"x", "y"}}), none, k_now);
    BOOST_TEST(probe::to_string(bare.state) == "missing");
    BOOST_TEST(!bare.kernel_ready.has_value());

    const auto labelled = probe::read_node(node("n1", document().dump(),
                                                {{"meshlink.io/kernel-ready", "false"},
                                                 {"meshlink.io/kernel-version", "3.10.0-1160.el7.x86_64"}}),
                                           none, k_now);
    BOOST_TEST(probe::to_string(labelled.state) == "fresh");
    BOOST_TEST((labelled.kernel_ready == std::optional<bool>(false)));
    BOOST_TEST(labelled.kernel_version.value_or("") == "3.10.0-1160.el7.x86_64");
    BOOST_TEST(labelled.failing == std::vector<std::string>{"node.kernel.version"});
    BOOST_TEST(labelled.cilium_version == "1.16");
    BOOST_TEST(labelled.report.has_value());

    // Another node's report copied onto this one.
    const auto copied = probe::read_node(node("n2", document("n1").dump()), none, k_now);
    BOOST_TEST(probe::to_string(copied.state) == "invalid");
    BOOST_TEST(copied.problem.find("another node") != std::string::npos, copied.problem);
    BOOST_TEST(!copied.report.has_value());

    // An annotation that is not a string (a server that is not kube-apiserver), a metadata that is not an
    // object: judged, never thrown.
    json odd = node("n1", std::nullopt);
    odd["metadata"]["annotations"] = {{"meshlink.io/node-report", {{"schemaVersion", 1}}}};
    BOOST_TEST(probe::to_string(probe::read_node(odd, none, k_now).state) == "invalid");
    BOOST_TEST(probe::to_string(probe::read_node(json{{"metadata", 5}}, none, k_now).state) == "missing");
    BOOST_TEST(probe::read_node(json::array(), none, k_now).node == "(unnamed)");
}

BOOST_AUTO_TEST_CASE(facts_digest_is_bounded_and_ignores_everything_but_the_facts) {
    const auto a = probe::parse_report(document("n1").dump());
    json other = document("n2", k_now - 5s);
    const auto b = probe::parse_report(other.dump());
    other["facts"]["kernel"]["release"] = std::string(100000, 'x');
    const auto c = probe::parse_report(other.dump());
    BOOST_TEST_REQUIRE((a.report && b.report && c.report));
    BOOST_TEST((probe::facts_digest(*a.report) == probe::facts_digest(*b.report))); // same facts, other node
    BOOST_TEST((probe::facts_digest(*a.report) != probe::facts_digest(*c.report)));
    BOOST_TEST(probe::facts_digest(*c.report).size() == 32u);
}

BOOST_AUTO_TEST_SUITE_END()
