import { randomUUID } from "node:crypto";
import { StrataError } from "../errors.js";
import { LuaScript } from "../online-store/lua-script.js";
import type { RedisClient } from "../online-store/pipeline.js";
import { backfillKeys } from "../online-store/redis-layout.js";

const LEASE_SCRIPT = LuaScript.fromFile("backfill-lease");

/** How long a lease lives unless renewed; a crashed coordinator's lease lapses after this. */
export const DEFAULT_LEASE_MS = 15_000;

/**
 * The lease of one view major's backfill: held while a coordinator call runs and renewed in the
 * background, so two coordinators never both run; every state change checks it
 * (lua/backfill-state.lua), so one whose lease lapsed (paused, partitioned) can change nothing.
 */
export class BackfillLease {
  private timer: NodeJS.Timeout | undefined;
  /** Set when a renewal found the lease gone: the holder must stop. */
  lost: Error | undefined;

  private constructor(
    private readonly client: RedisClient,
    /** A connection of its own: renewals must not queue behind the loader's large pipelines. */
    private readonly renewer: RedisClient,
    private readonly key: string,
    readonly token: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease or throws STRATA_E_BACKFILL_LEASE_HELD naming the holder. */
  static async acquire(
    client: RedisClient,
    project: string,
    viewKey: string,
    options: { token?: string; ttlMs?: number } = {},
  ): Promise<BackfillLease> {
    const token = options.token ?? randomUUID();
    const ttlMs = options.ttlMs ?? DEFAULT_LEASE_MS;
    const key = backfillKeys.lease(project, viewKey);
    const reply = (await client.eval(LEASE_SCRIPT.source, 1, key, token, "acquire", ttlMs)) as [
      number,
      string,
      number?,
    ];
    if (reply[0] !== 1) {
      throw new StrataError(
        "STRATA_E_BACKFILL_LEASE_HELD",
        `another coordinator (${reply[1]}) holds the backfill lease of ${viewKey} for ${reply[2]} ms more`,
        { view: viewKey, holder: reply[1], remainingMs: reply[2] },
      );
    }
    const renewer = client.duplicate();
    // Its failures show as a failed renewal (the lease then lapses and fences the holder).
    renewer.on("error", () => undefined);
    const lease = new BackfillLease(client, renewer, key, token, ttlMs);
    lease.timer = setInterval(() => void lease.renew(), Math.max(100, Math.floor(ttlMs / 3)));
    lease.timer.unref();
    return lease;
  }

  private async renew(): Promise<void> {
    try {
      const reply = (await this.renewer.eval(
        LEASE_SCRIPT.source,
        1,
        this.key,
        this.token,
        "renew",
        this.ttlMs,
      )) as number[];
      if (reply[0] !== 1) this.lost = new Error(`the backfill lease ${this.key} was lost`);
    } catch {
      // Redis unreachable: the state changes will fail on their own, fenced by the lease.
    }
  }

  /** Stops renewing and deletes the lease if still ours. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.client.eval(LEASE_SCRIPT.source, 1, this.key, this.token, "release", 0);
    } finally {
      this.renewer.disconnect();
    }
  }

  /** Stops renewing without releasing (the lease lapses by itself; tests of a crash). */
  abandon(): void {
    clearInterval(this.timer);
    this.renewer.disconnect();
  }
}
