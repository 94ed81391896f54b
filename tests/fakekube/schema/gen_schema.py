#!/usr/bin/python3
"""Generates fakekube's compact API schema from the official Kubernetes API models.

The models come from Debian's python3-kubernetes (kubernetes.client.models): every model class carries
`openapi_types` (attribute -> type) and `attribute_map` (attribute -> JSON name); a setter that rejects None
marks a required field. The output is a C++ source file embedding one JSON document:

  {"kinds":  {"<group/version>/<Kind>": "<Model>", ...},
   "models": {"<Model>": {"go": "<Go type name>",
                          "fields": {"<json name>": "<type>", ...},
                          "required": ["<json name>", ...],
                          "patch": {"<json name>": ["<patchStrategy>", "<patchMergeKey>"], ...}}}}

where <type> is one of string, integer, number, boolean, date-time, any, int-or-string, quantity, bytes,
list:<type>, map:<type> or model:<Model>.

Usage: gen_schema.py OUTPUT.cpp   (run with Debian's /usr/bin/python3)
"""

import inspect
import json
import re
import sys

from kubernetes.client import models

# The resources fakekube serves: "<group/version>/<Kind>" -> model class name.
KINDS = {
    "v1/Namespace": "V1Namespace",
    "v1/Node": "V1Node",
    "v1/Pod": "V1Pod",
    "v1/Service": "V1Service",
    "v1/Endpoints": "V1Endpoints",
    "v1/ConfigMap": "V1ConfigMap",
    "v1/Secret": "V1Secret",
    "v1/ServiceAccount": "V1ServiceAccount",
    "v1/Event": "CoreV1Event",
    "policy/v1/Eviction": "V1Eviction",
    "apps/v1/Deployment": "V1Deployment",
    "apps/v1/DaemonSet": "V1DaemonSet",
    "batch/v1/Job": "V1Job",
    "rbac.authorization.k8s.io/v1/Role": "V1Role",
    "rbac.authorization.k8s.io/v1/RoleBinding": "V1RoleBinding",
    "rbac.authorization.k8s.io/v1/ClusterRole": "V1ClusterRole",
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "V1ClusterRoleBinding",
    "coordination.k8s.io/v1/Lease": "V1Lease",
    "discovery.k8s.io/v1/EndpointSlice": "V1EndpointSlice",
    "policy/v1/PodDisruptionBudget": "V1PodDisruptionBudget",
    "authorization.k8s.io/v1/SelfSubjectAccessReview": "V1SelfSubjectAccessReview",
    "v1/DeleteOptions": "V1DeleteOptions",
}

# Fields whose Go type the Python client flattens: IntOrString and Quantity appear as `object`/`str`,
# []byte as `str`. (Go types from k8s.io/api; the Python client keeps no trace of them.)
TYPE_OVERRIDES = {
    ("V1HTTPGetAction", "port"): "int-or-string",
    ("V1TCPSocketAction", "port"): "int-or-string",
    ("V1ServicePort", "targetPort"): "int-or-string",
    ("V1RollingUpdateDeployment", "maxSurge"): "int-or-string",
    ("V1RollingUpdateDeployment", "maxUnavailable"): "int-or-string",
    ("V1RollingUpdateDaemonSet", "maxSurge"): "int-or-string",
    ("V1RollingUpdateDaemonSet", "maxUnavailable"): "int-or-string",
    ("V1PodDisruptionBudgetSpec", "maxUnavailable"): "int-or-string",
    ("V1PodDisruptionBudgetSpec", "minAvailable"): "int-or-string",
    ("V1ManagedFieldsEntry", "fieldsV1"): "any",
    ("V1ResourceRequirements", "limits"): "map:quantity",
    ("V1ResourceRequirements", "requests"): "map:quantity",
    ("V1NodeStatus", "capacity"): "map:quantity",
    ("V1NodeStatus", "allocatable"): "map:quantity",
    ("V1PodSpec", "overhead"): "map:quantity",
    ("V1EmptyDirVolumeSource", "sizeLimit"): "quantity",
    ("V1ResourceFieldSelector", "divisor"): "quantity",
    ("V1Secret", "data"): "map:bytes",
    ("V1ConfigMap", "binaryData"): "map:bytes",
}

# Fields added to the API after Kubernetes 1.22, which python3-kubernetes 22.6 (Debian 12) predates.
# Kept short and to what real manifests (Cilium 1.16 among them) and kubectl 1.32 send.
NEWER_FIELDS = {
    "V1PodSpec": {"os": "model:V1PodOS", "hostUsers": "boolean", "schedulingGates": "list:any",
                  "resourceClaims": "list:any", "resources": "model:V1ResourceRequirements"},
    "V1Container": {"resizePolicy": "list:any", "restartPolicy": "string"},
    "V1EphemeralContainer": {"resizePolicy": "list:any", "restartPolicy": "string"},
    "V1SecurityContext": {"appArmorProfile": "model:V1AppArmorProfile"},
    "V1PodSecurityContext": {"appArmorProfile": "model:V1AppArmorProfile",
                             "supplementalGroupsPolicy": "string", "seLinuxChangePolicy": "string"},
    "V1ResourceRequirements": {"claims": "list:any"},
    "V1Probe": {"grpc": "any"},
    "V1TopologySpreadConstraint": {"minDomains": "integer", "nodeAffinityPolicy": "string",
                                   "nodeTaintsPolicy": "string", "matchLabelKeys": "list:string"},
    "V1PodAffinityTerm": {"matchLabelKeys": "list:string", "mismatchLabelKeys": "list:string"},
    "V1ServiceSpec": {"trafficDistribution": "string"},
    "V1LoadBalancerIngress": {"ipMode": "string"},
    "V1JobSpec": {"podFailurePolicy": "any", "backoffLimitPerIndex": "integer", "maxFailedIndexes": "integer",
                  "podReplacementPolicy": "string", "successPolicy": "any", "managedBy": "string"},
    "V1JobStatus": {"ready": "integer", "terminating": "integer", "failedIndexes": "string"},
    "V1PodDisruptionBudgetSpec": {"unhealthyPodEvictionPolicy": "string"},
    "V1PodStatus": {"hostIPs": "list:any", "resize": "string", "resourceClaimStatuses": "list:any"},
    "V1ContainerStatus": {"allocatedResources": "map:quantity", "resources": "model:V1ResourceRequirements",
                          "user": "any", "volumeMounts": "list:any", "allocatedResourcesStatus": "list:any"},
    "V1NodeStatus": {"runtimeHandlers": "list:any", "features": "any"},
    "V1EndpointHints": {},
    "V1ResourceAttributes": {"fieldSelector": "any", "labelSelector": "any"},
    "V1DeploymentStatus": {"terminatingReplicas": "integer"},
}
NEWER_MODELS = {
    "V1PodOS": {"go": "PodOS", "fields": {"name": "string"}, "required": ["name"], "patch": {}},
    "V1AppArmorProfile": {"go": "AppArmorProfile", "fields": {"type": "string", "localhostProfile": "string"},
                          "required": ["type"], "patch": {}},
}

# Setters that reject None although kube-apiserver accepts the field missing (or only status writers send it).
NOT_REQUIRED = {
    ("V1EndpointSlice", "endpoints"),
    ("CoreV1Event", "metadata"),
    ("V1SelfSubjectAccessReview", "spec"),
}

# patchStrategy / patchMergeKey struct tags of k8s.io/api types (the Python client drops them). Strategic
# merge patch merges these lists by key; every other list is replaced whole.
PATCH_META = {
    ("V1ObjectMeta", "ownerReferences"): ("merge", "uid"),
    ("V1ObjectMeta", "finalizers"): ("merge", ""),
    ("V1PodSpec", "volumes"): ("merge,retainKeys", "name"),
    ("V1PodSpec", "initContainers"): ("merge", "name"),
    ("V1PodSpec", "containers"): ("merge", "name"),
    ("V1PodSpec", "ephemeralContainers"): ("merge", "name"),
    ("V1PodSpec", "imagePullSecrets"): ("merge", "name"),
    ("V1PodSpec", "hostAliases"): ("merge", "ip"),
    ("V1PodSpec", "topologySpreadConstraints"): ("merge", "topologyKey"),
    ("V1PodSpec", "schedulingGates"): ("merge", "name"),
    ("V1PodSpec", "resourceClaims"): ("merge,retainKeys", "name"),
    ("V1Container", "ports"): ("merge", "containerPort"),
    ("V1Container", "env"): ("merge", "name"),
    ("V1Container", "volumeMounts"): ("merge", "mountPath"),
    ("V1Container", "volumeDevices"): ("merge", "devicePath"),
    ("V1EphemeralContainer", "ports"): ("merge", "containerPort"),
    ("V1EphemeralContainer", "env"): ("merge", "name"),
    ("V1EphemeralContainer", "volumeMounts"): ("merge", "mountPath"),
    ("V1EphemeralContainer", "volumeDevices"): ("merge", "devicePath"),
    ("V1PodStatus", "conditions"): ("merge", "type"),
    ("V1PodStatus", "podIPs"): ("merge", "ip"),
    ("V1PodStatus", "hostIPs"): ("merge", "ip"),
    ("V1PodStatus", "resourceClaimStatuses"): ("merge,retainKeys", "name"),
    ("V1ServiceSpec", "ports"): ("merge", "port"),
    ("V1ServiceStatus", "conditions"): ("merge", "type"),
    ("V1ServiceAccount", "secrets"): ("merge", "name"),
    ("V1NodeSpec", "podCIDRs"): ("merge", ""),
    ("V1NodeStatus", "conditions"): ("merge", "type"),
    ("V1NodeStatus", "addresses"): ("merge", "type"),
    ("V1NamespaceStatus", "conditions"): ("merge", "type"),
    ("V1DeploymentSpec", "strategy"): ("retainKeys", ""),
    ("V1DeploymentStatus", "conditions"): ("merge", "type"),
    ("V1DaemonSetStatus", "conditions"): ("merge", "type"),
    ("V1JobStatus", "conditions"): ("merge", "type"),
    ("V1PodDisruptionBudgetStatus", "conditions"): ("merge", "type"),
}

MODEL_RE = re.compile(r"^[A-Z]\w*$")


def convert(python_type):
    """Maps a Python client type string to the compact schema's type string."""
    t = python_type.strip()
    if t.startswith("list[") and t.endswith("]"):
        return "list:" + convert(t[5:-1])
    if t.startswith("dict(") and t.endswith(")"):
        key, value = t[5:-1].split(",", 1)
        assert key.strip() == "str", python_type
        return "map:" + convert(value)
    simple = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
              "datetime": "date-time", "date": "string", "object": "any"}
    if t in simple:
        return simple[t]
    if MODEL_RE.match(t):
        return "model:" + t
    raise ValueError("unknown python type " + python_type)


def go_name(model):
    """V1PodSpec -> PodSpec, CoreV1Event -> Event: the Go type name kube-apiserver prints in decode errors."""
    return re.sub(r"^(?:[A-Z][a-z]+)?V\d+(?:(?:alpha|beta)\d+)?", "", model)


def is_required(cls, attribute):
    prop = getattr(cls, attribute, None)
    if not isinstance(prop, property) or prop.fset is None:
        return False
    return "must not be `None`" in inspect.getsource(prop.fset)


def collect(root_models):
    out = {}
    pending = list(root_models)
    while pending:
        name = pending.pop()
        if name in out:
            continue
        if name in NEWER_MODELS:
            out[name] = NEWER_MODELS[name]
            continue
        cls = getattr(models, name)
        fields, required, patch = {}, [], {}
        for attribute, python_type in cls.openapi_types.items():
            json_name = cls.attribute_map[attribute]
            fields[json_name] = TYPE_OVERRIDES.get((name, json_name), convert(python_type))
            if is_required(cls, attribute) and (name, json_name) not in NOT_REQUIRED:
                required.append(json_name)
        fields.update(NEWER_FIELDS.get(name, {}))
        for json_name in fields:
            if (name, json_name) in PATCH_META:
                patch[json_name] = list(PATCH_META[(name, json_name)])
        out[name] = {"go": go_name(name), "fields": fields, "required": sorted(required), "patch": patch}
        for type_string in fields.values():
            pending.extend(re.findall(r"model:(\w+)", type_string))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_schema.py OUTPUT.cpp")
    schema = {"kinds": KINDS, "models": collect(KINDS.values())}
    missing = [key for key in PATCH_META if key[0] in schema["models"]
               and key[1] not in schema["models"][key[0]]["fields"]]
    if missing:
        sys.exit("gen_schema.py: patch metadata for unknown fields: %s" % missing)
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    # Adjacent raw string literals of at most 16 KiB each: one array, no compiler limit reached.
    chunks = [text[i:i + 16384] for i in range(0, len(text), 16384)]
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        out.write("// Generated by tests/fakekube/schema/gen_schema.py from python3-kubernetes %s. Do not edit.\n"
                  % getattr(__import__("kubernetes"), "__version__", "?"))
        out.write('#include "tests/fakekube/schema/embedded.hpp"\n\n')
        out.write("namespace meshlink::fakekube {\n\nconst char k_schema_json[] =\n")
        for chunk in chunks:
            out.write('    R"fk(' + chunk + ')fk"\n')
        out.write("    ;\n\n} // namespace meshlink::fakekube\n")


if __name__ == "__main__":
    main()
