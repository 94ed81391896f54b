#pragma once
// fakekube's own PKI (a CA, a serving certificate for 127.0.0.1 and localhost, an admin client
// certificate CN=admin O=system:masters) and the kubeconfig it writes for them.

#include "kube/pki.hpp"
#include "util/error.hpp"

#include <string>

namespace meshlink::fakekube {

struct ClusterCredentials {
    kube::pki::KeyPair ca;
    kube::pki::KeyPair serving;
    kube::pki::KeyPair admin;
};

// `host` is added to the serving certificate's IP SANs when it is not 127.0.0.1.
util::Result<ClusterCredentials> make_credentials(const std::string& name, const std::string& host);

// Writes a kubeconfig whose context, cluster and user are all named `name`, mode 0600, atomically.
util::Result<> write_kubeconfig(const std::string& path, const std::string& name,
                                const std::string& server_url, const ClusterCredentials& credentials);

} // namespace meshlink::fakekube
