import { resolveEndpoints } from "../endpoints.js";
import { redisUrl, serviceName, type RegionLayout } from "../layout.js";
import { RedisNode } from "./redis-node.js";
import type { ServiceStatus, StackService, UpOutcome } from "./service.js";

/**
 * One region's Redis standalone: region 0 on 127.0.0.1:16379 (unless REDIS_URL names
 * another server), region i on 16379 + i.
 */
export class RedisStandalone implements StackService {
  readonly name: string;
  private readonly node: RedisNode;

  constructor(private readonly region: RegionLayout) {
    this.name = serviceName("redis", region);
    this.node = new RedisNode(this.name, region.redisPort);
  }

  private get external(): boolean {
    return this.region.index === 0 && resolveEndpoints().redis.external;
  }

  async up(): Promise<UpOutcome> {
    if (this.external) return "external";
    if (this.node.runningPid() !== undefined && (await this.node.waitReady())) return "reused";
    await this.node.stop();
    await this.node.start("REDIS_URL");
    return "started";
  }

  down(): Promise<boolean> {
    return this.node.stop();
  }

  status(): ServiceStatus {
    if (this.external) {
      const endpoint = resolveEndpoints().redis;
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
      address: redisUrl(this.region),
      pids: pid === undefined ? [] : [pid],
    };
  }
}
