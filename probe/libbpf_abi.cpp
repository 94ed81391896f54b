// Deliberately does not include <bpf/libbpf.h>: see libbpf_abi.hpp.

#include "probe/libbpf_abi.hpp"

extern "C" {
const char* libbpf_bpf_prog_type_str(int type);
const char* libbpf_bpf_map_type_str(int type);
int libbpf_probe_bpf_prog_type(int type, const void* opts);
int libbpf_probe_bpf_map_type(int type, const void* opts);
int libbpf_probe_bpf_helper(int prog_type, int helper_id, const void* opts);
}

namespace meshlink::probe::libbpf_abi {

const char* prog_type_str(int type) {
    return libbpf_bpf_prog_type_str(type);
}
const char* map_type_str(int type) {
    return libbpf_bpf_map_type_str(type);
}
int probe_prog_type(int type) {
    return libbpf_probe_bpf_prog_type(type, nullptr);
}
int probe_map_type(int type) {
    return libbpf_probe_bpf_map_type(type, nullptr);
}
int probe_helper(int prog_type, int helper_id) {
    return libbpf_probe_bpf_helper(prog_type, helper_id, nullptr);
}

} // namespace meshlink::probe::libbpf_abi
