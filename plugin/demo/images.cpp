#include "plugin/demo/images.hpp"

#include "plugin/defaults.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshlink::plugin::demo {
namespace {

bool has_space_or_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](unsigned char c) { return c <= 0x20 || c == 0x7f || c == '"' || c == '\\'; });
}

// Whether the first path component of a reference names a registry host, as the container runtimes decide:
// it has a dot or a port, or is "localhost".
bool is_registry_host(std::string_view component) {
    return component == "localhost" || component.find_first_of(".:") != std::string_view::npos;
}

util::Result<std::string> checked_reference(std::string_view flag, const std::string& image) {
    if (image.empty() || has_space_or_control(image) || image.find("://") != std::string::npos) {
        return util::fail(
            util::ErrorKind::usage,
            fmt::format("{} \"{}\" is not an image reference (REGISTRY/REPOSITORY[:TAG][@DIGEST])", flag,
                        image));
    }
    return image;
}

} // namespace

std::string with_registry(std::string_view image, std::string_view registry) {
    const auto slash = image.find('/');
    std::string_view path = image;
    if (slash != std::string_view::npos && is_registry_host(image.substr(0, slash))) {
        path = image.substr(slash + 1);
    }
    return fmt::format("{}/{}", registry, path);
}

util::Result<Images> resolve_images(const ImageOptions& options) {
    Images images{std::string(defaults::k_demo_server_image), std::string(defaults::k_demo_client_image),
                  std::string(defaults::k_probe_image)};
    if (options.registry) {
        const std::string& registry = *options.registry;
        const auto last = registry.rfind('/');
        const std::string_view tail =
            last == std::string::npos ? std::string_view(registry) : std::string_view(registry).substr(last);
        if (registry.empty() || has_space_or_control(registry) || registry.find("://") != std::string::npos ||
            registry.ends_with('/') || registry.find('@') != std::string::npos ||
            (last != std::string::npos && tail.find(':') != std::string_view::npos)) {
            return util::fail(util::ErrorKind::usage,
                              fmt::format("--image-registry \"{}\" must be HOST[:PORT][/PREFIX], without a "
                                          "scheme, a tag or a digest (e.g. mirror.example:5000/cilium-demo)",
                                          registry));
        }
        images.server = with_registry(images.server, registry);
        images.client = with_registry(images.client, registry);
        images.probe = with_registry(images.probe, registry);
        images.from_registry = true;
    }
    const std::pair<std::string_view, const std::optional<std::string>*> overrides[] = {
        {"--server-image", &options.server},
        {"--client-image", &options.client},
        {"--probe-image", &options.probe}};
    std::string* targets[] = {&images.server, &images.client, &images.probe};
    for (std::size_t i = 0; i < std::size(overrides); ++i) {
        if (*overrides[i].second) {
            auto checked = checked_reference(overrides[i].first, **overrides[i].second);
            if (!checked) {
                return std::unexpected(checked.error());
            }
            *targets[i] = std::move(*checked);
        }
    }
    return images;
}

std::string pull_hint(std::string_view image) {
    return fmt::format(
        "copy {} (the whole multi-arch index, e.g. `crane copy` or `skopeo copy --all`, so its "
        "digest stays valid) to a registry the cluster can pull from and pass "
        "--image-registry HOST[/PREFIX] (or --server-image/--client-image/--probe-image); "
        "`kubectl meshlink demo deploy --print-images` lists every image; a registry that needs "
        "credentials also needs --image-pull-secret NAME",
        image);
}

} // namespace meshlink::plugin::demo
