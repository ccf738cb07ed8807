import { Redis } from "ioredis";
import { badConfig, type RedisAddress } from "../../shared/config/env.js";
import type { RedisClient } from "../../shared/online-store/index.js";

/** `redis://host:port` (or rediss://) for a standalone server, `cluster://host:port,host:port` for a cluster. */
export function parseRedisTarget(text: string): RedisAddress {
  if (/^rediss?:\/\//.test(text)) return { url: text };
  const cluster = /^cluster:\/\/(.+)$/.exec(text);
  if (cluster) {
    const nodes = cluster[1]!.split(",").map((node) => {
      const match = /^(.+):(\d+)$/.exec(node);
      if (!match) throw badConfig("the Redis target", text, "cluster://host:port[,host:port...]");
      return { host: match[1]!, port: Number(match[2]) };
    });
    return { clusterNodes: nodes };
  }
  throw badConfig(
    "the Redis target",
    text,
    "redis://host:port or cluster://host:port[,host:port...]",
  );
}

/** Whether any key of the project exists on any master (one SCAN step per node). */
export async function projectHasKeys(client: RedisClient, project: string): Promise<boolean> {
  const nodes = client instanceof Redis ? [client] : client.nodes("master");
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `fs:{${project}*`, "COUNT", 1_000);
      if (keys.length > 0) return true;
      cursor = next;
    } while (cursor !== "0");
  }
  return false;
}
