// Generates fakekube's compact API schema (kubernetes.json) from the models of the Kubernetes JavaScript client
// (@kubernetes/client-node, dist/gen/models), which are generated from kube-apiserver's OpenAPI document.
//
//   node gen_schema.mjs MODELS_DIR KUBERNETES_VERSION SOURCE > kubernetes.json
//
// Run through regenerate.sh, which fetches the pinned package. Every model file exports a class with a static
// `attributeTypeMap` ([{name, baseName, type, format}]); its .d.ts marks optional properties with `?`, so the others
// are the OpenAPI document's required fields. The output is one JSON document, the same bytes for the same input
// (keys sorted, one model per line):
//
//   {"kinds":  {"<group/version>/<Kind>": "<Model>", ...},
//    "kubernetes": "<version>", "source": "<package@version>",
//    "models": {"<Model>": {"go": "<Go type name>", "fields": {"<json name>": "<type>", ...},
//                           "required": ["<json name>", ...],
//                           "patch": {"<json name>": ["<patchStrategy>", "<patchMergeKey>"], ...}}}}
//
// where <type> is string, int32, int64, number, boolean, date-time, any, int-or-string, quantity, bytes,
// list:<type>, map:<type> or model:<Model>.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

// The resources fakekube serves (tests/fakekube/resources.cpp) and the bodies it decodes.
const KINDS = {
  "v1/Namespace": "V1Namespace",
  "v1/Node": "V1Node",
  "v1/Pod": "V1Pod",
  "v1/Service": "V1Service",
  "v1/Endpoints": "V1Endpoints",
  "v1/ConfigMap": "V1ConfigMap",
  "v1/Secret": "V1Secret",
  "v1/ServiceAccount": "V1ServiceAccount",
  "v1/Event": "CoreV1Event",
  "v1/DeleteOptions": "V1DeleteOptions",
  "policy/v1/Eviction": "V1Eviction",
  "policy/v1/PodDisruptionBudget": "V1PodDisruptionBudget",
  "apps/v1/Deployment": "V1Deployment",
  "apps/v1/ReplicaSet": "V1ReplicaSet",
  "apps/v1/DaemonSet": "V1DaemonSet",
  "batch/v1/Job": "V1Job",
  "rbac.authorization.k8s.io/v1/Role": "V1Role",
  "rbac.authorization.k8s.io/v1/RoleBinding": "V1RoleBinding",
  "rbac.authorization.k8s.io/v1/ClusterRole": "V1ClusterRole",
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "V1ClusterRoleBinding",
  "coordination.k8s.io/v1/Lease": "V1Lease",
  "discovery.k8s.io/v1/EndpointSlice": "V1EndpointSlice",
  "authorization.k8s.io/v1/SelfSubjectAccessReview": "V1SelfSubjectAccessReview",
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy": "V1ValidatingAdmissionPolicy",
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": "V1ValidatingAdmissionPolicyBinding",
  "admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration": "V1ValidatingWebhookConfiguration",
  "admissionregistration.k8s.io/v1/MutatingWebhookConfiguration": "V1MutatingWebhookConfiguration",
  "networking.k8s.io/v1/ServiceCIDR": "V1ServiceCIDR",
};

// resource.Quantity is a string schema without a format in the OpenAPI document, so the generated client keeps no
// trace of it; the Go types (k8s.io/api) name these fields. A quantity also decodes from a JSON number.
const QUANTITY_FIELDS = {
  V1ResourceRequirements: ["limits", "requests"],
  V1VolumeResourceRequirements: ["limits", "requests"],
  V1NodeStatus: ["capacity", "allocatable"],
  V1PodSpec: ["overhead"],
  V1ContainerStatus: ["allocatedResources"],
  V1PersistentVolumeClaimStatus: ["allocatedResources", "capacity"],
  V1EmptyDirVolumeSource: ["sizeLimit"],
  V1ResourceFieldSelector: ["divisor"],
};
// Map fields named like quantities elsewhere must be listed above or here, so a new API field is a decision.
const NOT_QUANTITIES = new Set(["V1PodStatus.resize", "V1NodeStatus.images"]);
const QUANTITY_NAMES = new Set(["limits", "requests", "capacity", "allocatable", "overhead", "sizeLimit",
                                "divisor", "allocatedResources"]);

// Fields the OpenAPI document lists as required although kube-apiserver accepts them missing (the Go field has
// no omitempty, so openapi-gen calls it required, but neither decoding nor validation demands it).
const NOT_REQUIRED = new Set([
  "V1EndpointSlice.endpoints",
  "CoreV1Event.metadata",
  "CoreV1Event.involvedObject",
  "V1SelfSubjectAccessReview.spec",
  "V1ServiceCIDRSpec.cidrs",
]);

// patchStrategy / patchMergeKey struct tags of the Go types (the generated client drops them). Strategic merge
// patch merges these lists by key; every other list is replaced whole.
const PATCH_META = {
  "V1ObjectMeta.ownerReferences": ["merge", "uid"],
  "V1ObjectMeta.finalizers": ["merge", ""],
  "V1PodSpec.volumes": ["merge,retainKeys", "name"],
  "V1PodSpec.initContainers": ["merge", "name"],
  "V1PodSpec.containers": ["merge", "name"],
  "V1PodSpec.ephemeralContainers": ["merge", "name"],
  "V1PodSpec.imagePullSecrets": ["merge", "name"],
  "V1PodSpec.hostAliases": ["merge", "ip"],
  "V1PodSpec.topologySpreadConstraints": ["merge", "topologyKey"],
  "V1PodSpec.schedulingGates": ["merge", "name"],
  "V1PodSpec.resourceClaims": ["merge,retainKeys", "name"],
  "V1Container.ports": ["merge", "containerPort"],
  "V1Container.env": ["merge", "name"],
  "V1Container.volumeMounts": ["merge", "mountPath"],
  "V1Container.volumeDevices": ["merge", "devicePath"],
  "V1EphemeralContainer.ports": ["merge", "containerPort"],
  "V1EphemeralContainer.env": ["merge", "name"],
  "V1EphemeralContainer.volumeMounts": ["merge", "mountPath"],
  "V1EphemeralContainer.volumeDevices": ["merge", "devicePath"],
  "V1PodStatus.conditions": ["merge", "type"],
  "V1PodStatus.podIPs": ["merge", "ip"],
  "V1PodStatus.hostIPs": ["merge", "ip"],
  "V1PodStatus.resourceClaimStatuses": ["merge,retainKeys", "name"],
  "V1ServiceSpec.ports": ["merge", "port"],
  "V1ServiceStatus.conditions": ["merge", "type"],
  "V1ServiceAccount.secrets": ["merge", "name"],
  "V1NodeSpec.podCIDRs": ["merge", ""],
  "V1NodeStatus.conditions": ["merge", "type"],
  "V1NodeStatus.addresses": ["merge", "type"],
  "V1NamespaceStatus.conditions": ["merge", "type"],
  "V1DeploymentSpec.strategy": ["retainKeys", ""],
  "V1DeploymentStatus.conditions": ["merge", "type"],
  "V1ReplicaSetStatus.conditions": ["merge", "type"],
  "V1DaemonSetStatus.conditions": ["merge", "type"],
  "V1JobStatus.conditions": ["merge", "type"],
  "V1PodDisruptionBudgetStatus.conditions": ["merge", "type"],
  "V1ServiceCIDRStatus.conditions": ["merge", "type"],
};

function fail(message) {
  process.stderr.write(`gen_schema.mjs: ${message}\n`);
  process.exit(1);
}

// V1PodSpec -> PodSpec, CoreV1Event -> Event, AdmissionregistrationV1ServiceReference -> ServiceReference: the Go
// type name kube-apiserver prints in decode errors.
function goName(model) {
  return model.replace(/^(?:[A-Z][a-z]+)?V\d+(?:(?:alpha|beta)\d+)?/, "");
}

function convert(type, format, where) {
  const list = /^Array<(.+)>$/.exec(type);
  if (list) {
    return "list:" + convert(list[1], format, where);
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    return "map:" + convert(map[1], format, where);
  }
  if (type === "string") {
    return format === "byte" ? "bytes" : format === "int-or-string" ? "int-or-string" : "string";
  }
  if (type === "number") {
    if (format === "int32" || format === "int64") {
      return format;
    }
    return "number";
  }
  if (type === "boolean") {
    return "boolean";
  }
  if (type === "Date" || type === "V1MicroTime") {
    return "date-time";
  }
  if (type === "any" || type === "object") {
    return "any";
  }
  if (type === "IntOrString") {
    return "int-or-string";
  }
  if (/^[A-Z]\w*$/.test(type)) {
    return "model:" + type;
  }
  fail(`${where}: unknown type ${type} (${format})`);
}

// The names of the properties the .d.ts declares without `?`.
function requiredProperties(dts) {
  const out = new Set();
  for (const match of dts.matchAll(/^ {4}'([^']+)'(\?)?:/gm)) {
    if (!match[2]) {
      out.add(match[1]);
    }
  }
  return out;
}

async function loadModel(dir, name) {
  const file = path.join(dir, `${name}.js`);
  if (!fs.existsSync(file)) {
    fail(`no model ${name} in ${dir}`);
  }
  const module = await import(pathToFileURL(file).href);
  const cls = module[name];
  if (!cls || !Array.isArray(cls.attributeTypeMap)) {
    fail(`${file} exports no attributeTypeMap for ${name}`);
  }
  const required = requiredProperties(fs.readFileSync(path.join(dir, `${name}.d.ts`), "utf8"));
  const fields = {};
  const requiredJson = [];
  const patch = {};
  const quantities = new Set(QUANTITY_FIELDS[name] || []);
  for (const attribute of cls.attributeTypeMap) {
    const json = attribute.baseName;
    const where = `${name}.${json}`;
    let type = convert(attribute.type, attribute.format, where);
    if (quantities.has(json)) {
      if (type !== "map:string" && type !== "string") {
        fail(`${where}: listed as a quantity but is ${type}`);
      }
      type = type === "string" ? "quantity" : "map:quantity";
      quantities.delete(json);
    } else if (QUANTITY_NAMES.has(json) && /^(map:)?string$/.test(type) && !NOT_QUANTITIES.has(where)) {
      fail(`${where}: named like a quantity; add it to QUANTITY_FIELDS or NOT_QUANTITIES`);
    }
    fields[json] = type;
    if (required.has(attribute.name) && !NOT_REQUIRED.has(where)) {
      requiredJson.push(json);
    }
    if (PATCH_META[where]) {
      patch[json] = PATCH_META[where];
    }
  }
  if (quantities.size > 0) {
    fail(`${name}: quantity fields not in the model: ${[...quantities].join(", ")}`);
  }
  return { go: goName(name), fields, required: requiredJson.sort(), patch };
}

function sortedJson(value) {
  if (Array.isArray(value)) {
    return "[" + value.map(sortedJson).join(",") + "]";
  }
  if (value !== null && typeof value === "object") {
    return "{" + Object.keys(value).sort().map((key) => JSON.stringify(key) + ":" + sortedJson(value[key])).join(",") +
           "}";
  }
  return JSON.stringify(value);
}

async function main() {
  const [dir, kubernetes, source] = process.argv.slice(2);
  if (!dir || !kubernetes || !source) {
    fail("usage: gen_schema.mjs MODELS_DIR KUBERNETES_VERSION SOURCE");
  }
  const models = {};
  const pending = Object.values(KINDS);
  while (pending.length > 0) {
    const name = pending.pop();
    if (models[name]) {
      continue;
    }
    models[name] = await loadModel(dir, name);
    for (const type of Object.values(models[name].fields)) {
      for (const match of type.matchAll(/model:(\w+)/g)) {
        pending.push(match[1]);
      }
    }
  }
  for (const key of Object.keys(PATCH_META)) {
    const [model, field] = key.split(".");
    if (models[model] && !(field in models[model].fields)) {
      fail(`patch metadata for a field the model does not have: ${key}`);
    }
  }
  for (const key of NOT_REQUIRED) {
    const [model, field] = key.split(".");
    if (!models[model] || !(field in models[model].fields)) {
      fail(`NOT_REQUIRED names a field no served model has: ${key}`);
    }
  }
  const lines = Object.keys(models).sort().map((name) => JSON.stringify(name) + ":" + sortedJson(models[name]));
  process.stdout.write(`{"kinds":${sortedJson(KINDS)},\n"kubernetes":${JSON.stringify(kubernetes)},\n` +
                       `"source":${JSON.stringify(source)},\n"models":{\n${lines.join(",\n")}\n}}\n`);
}

await main();
