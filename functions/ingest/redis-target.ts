import { badConfig, parseHostPorts, type RedisAddress } from "../../shared/config/env.js";
import { scanMasters, type RedisClient } from "../../shared/online-store/index.js";

/** `redis://host:port` (or rediss://) for a standalone server, `cluster://host:port,host:port` for a cluster. */
export function parseRedisTarget(text: string): RedisAddress {
  if (/^rediss?:\/\//.test(text)) return { url: text };
  const cluster = /^cluster:\/\/(.+)$/.exec(text);
  if (cluster) return { clusterNodes: parseHostPorts(cluster[1]!, "the Redis target") };
  throw badConfig(
    "the Redis target",
    text,
    "redis://host:port or cluster://host:port[,host:port...]",
  );
}

/** Whether any key of the project exists on any master. */
export async function projectHasKeys(client: RedisClient, project: string): Promise<boolean> {
  for await (const _batch of scanMasters(client, `fs:{${project}*`)) return true;
  return false;
}
