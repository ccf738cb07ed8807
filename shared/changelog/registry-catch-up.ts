import type { LiveRegistry } from "../registry/live-registry.js";
import type { ServedRegistry } from "../registry/registry-source.js";

export interface RegistryCatchUpOptions {
  /** The longest a chunk waits for a newer registry before its records are judged by the one it has. */
  timeoutMs: number;
  /**
   * Records of a peer region's changelog copy: a refresh that finds nothing newer does not end
   * the wait, since the registry they need replicates separately and may arrive after them.
   */
  peerRecords?: boolean;
  /**
   * How far a record's produce time (its writer's clock) may be ahead of this process' clock.
   * A check that found nothing newer covers only records produced before it, less this.
   */
  clockSkewMs?: number;
  now?: () => number;
}

/** The default of RegistryCatchUpOptions.clockSkewMs. */
export const DEFAULT_REGISTRY_CLOCK_SKEW_MS = 5_000;

/**
 * A consumer whose registry is older than a record's writer's would dead-letter the record
 * of a view published a moment ago, or drop a feature a new minor version added. Before it
 * does, it asks for a newer registry (LiveRegistry.newerThan: the source is asked for what was
 * published since, or waited on until the timeout) and, given one, judges the records again.
 *
 * A check that found nothing newer than version V is remembered: a writer can only use a
 * registry after it is published, so a record produced before that check cannot need a
 * registry the check would not have seen. Records of a view removed long ago (a replay of the
 * compacted changelog) then cost one check, not one per chunk.
 */
export class RegistryCatchUp {
  private nothingNewer: { version: number; checkedAtMs: number } | undefined;
  private readonly clockSkewMs: number;
  private readonly now: () => number;

  constructor(
    private readonly live: LiveRegistry,
    private readonly options: RegistryCatchUpOptions,
  ) {
    this.clockSkewMs = options.clockSkewMs ?? DEFAULT_REGISTRY_CLOCK_SKEW_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * A registry newer than `version` for records produced up to `newestProducedMs` (Kafka
   * CreateTime), or undefined when there is none to wait for.
   */
  async newer(version: number, newestProducedMs: number): Promise<ServedRegistry | undefined> {
    const served = this.live.snapshot();
    if (served.version > version) return served;
    if (!this.live.follows) return undefined;
    const known = this.nothingNewer;
    if (
      known !== undefined &&
      known.version === version &&
      newestProducedMs + this.clockSkewMs < known.checkedAtMs
    ) {
      return undefined;
    }
    const checkedAtMs = this.now();
    const newer = await this.live.newerThan(version, this.options.timeoutMs, {
      refreshDecides: this.options.peerRecords !== true,
    });
    if (!newer && !(this.nothingNewer && this.nothingNewer.checkedAtMs > checkedAtMs)) {
      this.nothingNewer = { version, checkedAtMs };
    }
    return newer;
  }
}
