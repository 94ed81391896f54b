// kubeconfig.*: what the kubeconfig entry of each context means for a mesh, before any request.

#include "plugin/defaults.hpp"
#include "plugin/preflight/checks.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace meshlink::plugin::preflight {
namespace {

namespace kc = plugin::kubeconfig;

Check make(std::string_view id, const ClusterFacts& facts) {
    return Check{std::string(id), Scope::kubeconfig, facts.context, Status::unknown, {}, {}, std::nullopt};
}

std::string date_of(std::chrono::system_clock::time_point when) {
    return fmt::format("{:%Y-%m-%d}", std::chrono::floor<std::chrono::days>(when));
}

// One certificate's verdict; nullopt when there is none to judge.
struct CertVerdict {
    Status status = Status::pass;
    std::string text;
};

std::optional<CertVerdict> judge_certificate(const std::optional<kc::CertificateStatus>& cert,
                                             std::string_view what) {
    if (!cert) {
        return std::nullopt;
    }
    if (!cert->expiry) {
        return CertVerdict{Status::unknown, fmt::format("{} unreadable: {}", what, cert->error)};
    }
    const auto& e = *cert->expiry;
    if (e.expired) {
        return CertVerdict{Status::fail, fmt::format("{} expired on {}", what, date_of(e.not_after))};
    }
    const Status status = e.expiring_soon ? Status::warn : Status::pass;
    return CertVerdict{
        status, fmt::format("{} valid until {} ({} days)", what, date_of(e.not_after), e.remaining.count())};
}

} // namespace

std::vector<Check> kubeconfig_checks(const ClusterFacts& facts) {
    Check exists = make(check_id::context_exists, facts);
    Check reachable = make(check_id::server_reachable_from_peers, facts);
    Check portable = make(check_id::auth_portable, facts);
    Check expiry = make(check_id::cert_expiry, facts);
    if (!facts.kubeconfig || !facts.kubeconfig->problem.empty()) {
        exists.status = Status::fail;
        exists.message = !facts.kubeconfig
                             ? (facts.connect_error.empty()
                                    ? fmt::format("context \"{}\" not found in the kubeconfig", facts.context)
                                    : facts.connect_error)
                             : fmt::format("context \"{}\": {}", facts.context, facts.kubeconfig->problem);
        exists.hint =
            "list the contexts with `kubectl config get-contexts` (or `kubectl meshlink kubeconfig list`); "
            "add a cluster's kubeconfig with `kubectl meshlink kubeconfig merge FILE`";
        for (Check* other : {&reachable, &portable, &expiry}) {
            other->message = "not checked: the context is not usable";
        }
        return {exists, reachable, portable, expiry};
    }
    const auto& ctx = *facts.kubeconfig;
    exists.status = Status::pass;
    exists.message = fmt::format("context \"{}\": cluster \"{}\" ({}), user \"{}\"", ctx.name, ctx.cluster,
                                 ctx.server, ctx.user);

    const std::string host = kc::server_host(ctx.server);
    if (ctx.server_class == kc::ServerClass::invalid) {
        reachable.status = Status::fail;
        reachable.message = fmt::format("server \"{}\" is not an https URL with a host", ctx.server);
        reachable.hint = "fix the cluster's server in the kubeconfig";
    } else if (kc::reachable_only_locally(ctx.server_class)) {
        reachable.status = Status::warn;
        reachable.message =
            fmt::format("server {} is {} ({}): a peer cluster cannot reach it at that address; join "
                        "exposes the API server to peers itself",
                        ctx.server, kc::to_string(ctx.server_class), host);
        reachable.hint =
            "to share this kubeconfig with another machine, give it an address others can reach: "
            "kubectl meshlink kubeconfig merge --server https://HOST:PORT FILE";
    } else {
        reachable.status = Status::pass;
        reachable.message =
            fmt::format("server {} is a {} address", ctx.server, kc::to_string(ctx.server_class));
    }

    if (ctx.auth.kind == kc::AuthKind::none) {
        portable.status = Status::warn;
        portable.message = "the user has no credentials";
        portable.hint = "add a client certificate or token to the kubeconfig user";
    } else if (!ctx.auth.portable) {
        portable.status = Status::warn;
        portable.message = fmt::format("credentials are {}: {}", ctx.auth.label, ctx.auth.why_not);
        portable.hint =
            "preflight and join run here, so this works; a kubeconfig copied elsewhere needs the same "
            "program, file or login there";
    } else {
        portable.status = Status::pass;
        portable.message = fmt::format("credentials are {}: usable on another machine", ctx.auth.label);
    }

    std::vector<CertVerdict> verdicts;
    if (auto v = judge_certificate(ctx.client_certificate, "client certificate")) {
        verdicts.push_back(*v);
    }
    if (auto v = judge_certificate(ctx.certificate_authority, "certificate authority")) {
        verdicts.push_back(*v);
    }
    if (verdicts.empty()) {
        expiry.status = Status::pass;
        expiry.message = "no client certificate; the server is verified with the system's trust store";
    } else {
        expiry.status = Status::pass;
        std::string text;
        for (const auto& v : verdicts) {
            expiry.status = worst(expiry.status, v.status);
            text += (text.empty() ? "" : "; ") + v.text;
        }
        expiry.message = text;
        if (expiry.status == Status::fail || expiry.status == Status::warn) {
            expiry.hint =
                fmt::format("renew the certificate (warned {} days ahead), then re-merge the kubeconfig",
                            defaults::k_certificate_expiry_warning.count());
        }
    }
    return {exists, reachable, portable, expiry};
}

} // namespace meshlink::plugin::preflight
