import { decodeClockVector, type ClockVector } from "../versions/clock-vector.js";
import { encodeHlc, type Hlc } from "../versions/hlc.js";
import { LuaScript } from "./lua-script.js";
import { execBatch, type RedisClient } from "./pipeline.js";
import { seenClockKey } from "./redis-layout.js";

const SEEN_SCRIPT = LuaScript.fromFile("seen-max");

/**
 * A region's "seen" clock: per origin region, the highest HLC among the changelog records
 * this region's consumer has applied or found stale (docs/online-store.md, "Clock vectors").
 * The consumer raises it after each applied chunk; writers in the region carry it as the clock
 * vector of their writes, so that a write is taken to know of every write its region had
 * applied when the clock was read, and only writes that did not are counted concurrent.
 */
export class SeenClock {
  private readonly key: string;

  constructor(
    private readonly client: RedisClient,
    project: string,
  ) {
    this.key = seenClockKey(project);
  }

  /** Loads the script on every master (called when the store opens). */
  load(): Promise<void> {
    return SEEN_SCRIPT.loadOn(this.client);
  }

  /** Raises the clock to at least these HLCs; entries only grow. */
  async raise(seen: ReadonlyMap<string, Hlc>): Promise<void> {
    if (seen.size === 0) return;
    const argv = SEEN_SCRIPT.evalshaArgv([this.key]);
    for (const [region, hlc] of seen) argv.push(region, encodeHlc(hlc));
    let [reply] = await execBatch(this.client, [{ key: this.key, argv }]);
    if (reply![0]?.message.startsWith("NOSCRIPT")) {
      [reply] = await execBatch(this.client, [{ key: this.key, argv: SEEN_SCRIPT.asEval(argv) }]);
    }
    if (reply![0]) throw reply![0];
  }

  /** The clock as stored; entries not in the clock-vector form are left out. */
  async read(): Promise<ClockVector> {
    const stored = await this.client.hgetall(this.key);
    const entries = Object.entries(stored).filter(
      ([region, hlc]) => /^[a-z0-9][a-z0-9-]{0,62}$/.test(region) && /^[0-9a-f]{16}$/.test(hlc),
    );
    return decodeClockVector(entries.map(([region, hlc]) => `${region}:${hlc}`).join(","));
  }
}

/** The highest HLC per origin region among some versions. */
export function highestPerRegion(
  versions: Iterable<{ hlc: Hlc; originRegion: string }>,
): Map<string, Hlc> {
  const highest = new Map<string, Hlc>();
  for (const { hlc, originRegion } of versions) {
    const current = highest.get(originRegion);
    if (
      !current ||
      hlc.wallMs > current.wallMs ||
      (hlc.wallMs === current.wallMs && hlc.counter > current.counter)
    ) {
      highest.set(originRegion, hlc);
    }
  }
  return highest;
}
