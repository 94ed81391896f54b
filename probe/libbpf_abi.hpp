#pragma once
// libbpf's type tables and probes, with program and map types as plain ints.
//
// Why: libbpf (Debian's 1.1) knows types the uapi header we compile against (linux-libc-dev 6.1) does not,
// e.g. map type 32, cgrp_storage. In C++ an enum without a fixed underlying type only holds the values of
// its enumerators' bit range (0..31 for that header's bpf_map_type), so turning 32 into one is undefined
// behaviour (UBSan reports it). libbpf_abi.cpp declares the C functions with int parameters instead; C passes
// enums as int, so the call is the same.

namespace meshlink::probe::libbpf_abi {

const char* prog_type_str(int type);
const char* map_type_str(int type);
int probe_prog_type(int type);
int probe_map_type(int type);
int probe_helper(int prog_type, int helper_id);

} // namespace meshlink::probe::libbpf_abi
