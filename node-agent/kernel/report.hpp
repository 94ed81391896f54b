#pragma once
// The JSON documents of the kernel verbs (`-o json`), the contract with the cluster rollout: fields are only
// added within a schemaVersion. README "Kernel upgrade on a node" shows each shape.

#include "node-agent/kernel/upgrade.hpp"

#include <nlohmann/json.hpp>

namespace meshlink::agent::kernel {

inline constexpr int k_report_schema_version = 1;

nlohmann::ordered_json to_json(const PlanResult& plan);
nlohmann::ordered_json to_json(const StageResult& stage);
nlohmann::ordered_json to_json(const ConfirmResult& confirm);
nlohmann::ordered_json to_json(const RollbackResult& rollback);
nlohmann::ordered_json to_json(const StatusResult& status);

} // namespace meshlink::agent::kernel
