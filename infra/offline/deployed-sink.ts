import { offlineControlGroupPrefix } from "./names.js";
import { icebergSinkConnector, type IcebergSinkOptions } from "../../shared/offline/sink-config.js";

/**
 * The sink connector as a stack deploys it: the shared configuration
 * (shared/offline/sink-config.ts, the same the local stack registers), plus what only a
 * deployment knows: the control topic's consumer groups kept inside the project's prefix (so
 * that ACLs name them), how the sink's own control-topic clients log in (`iceberg.kafka.*`)
 * and the Hadoop file system settings of the warehouse (`iceberg.hadoop.*`).
 */
export function deployedSinkConnector(
  options: IcebergSinkOptions,
  extra: Record<string, string> = {},
): { name: string; config: Record<string, string> } {
  const connector = icebergSinkConnector(options);
  return {
    name: connector.name,
    config: {
      ...connector.config,
      "iceberg.control.group-id-prefix": offlineControlGroupPrefix(options.project),
      ...extra,
    },
  };
}
