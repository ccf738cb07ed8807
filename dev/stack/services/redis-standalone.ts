import { resolveEndpoints, LOCAL_PORTS } from "../endpoints.js";
import { RedisNode } from "./redis-node.js";
import type { ServiceStatus, StackService, UpOutcome } from "./service.js";

/** Redis standalone on 127.0.0.1:16379, unless REDIS_URL names another server. */
export class RedisStandalone implements StackService {
  readonly name = "redis";
  private readonly node = new RedisNode("redis", LOCAL_PORTS.redis);

  async up(): Promise<UpOutcome> {
    if (resolveEndpoints().redis.external) return "external";
    if (this.node.runningPid() !== undefined && (await this.node.waitReady())) return "reused";
    await this.node.stop();
    await this.node.start("REDIS_URL");
    return "started";
  }

  down(): Promise<boolean> {
    return this.node.stop();
  }

  status(): ServiceStatus {
    const endpoint = resolveEndpoints().redis;
    if (endpoint.external) {
      return {
        name: this.name,
        state: "external",
        address: endpoint.address,
        pids: [],
        source: endpoint.source,
      };
    }
    const pid = this.node.runningPid();
    return {
      name: this.name,
      state: pid === undefined ? "stopped" : "running",
      address: endpoint.address,
      pids: pid === undefined ? [] : [pid],
    };
  }
}
