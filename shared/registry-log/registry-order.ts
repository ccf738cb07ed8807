import type { StrataError } from "../errors.js";
import { isStrataError } from "../errors.js";
import {
  compareRegistries,
  decodePublishedRegistry,
  type PublishedRegistry,
  type ValidRegistryRecord,
} from "./published-registry.js";

/** A valid record and where it was read. */
export interface RegistryEntry extends ValidRegistryRecord {
  topic: string;
  offset: string;
}

/** What reading one record did to the registry logs. */
export type RecordOutcome =
  /** The log's newest registry now: its version is above every earlier accepted one of its log. */
  | { kind: "accepted"; entry: RegistryEntry }
  /**
   * Valid, but its version is not above what its log already accepted: it lost a race to an
   * apply that published the same version first (registry-apply.ts reports that as a conflict).
   */
  | { kind: "superseded"; entry: RegistryEntry; by: RegistryEntry }
  /** Not a valid registry record: ignored. */
  | { kind: "refused"; error: StrataError; topic: string; offset: string }
  /** A null value: the way an operator deletes a bad record's key; ignored. */
  | { kind: "tombstone"; topic: string; offset: string };

/**
 * The registry logs of one project as a reader folds them: the local topic and each peer's
 * copy, each read in offset order. Within one log the first record of a version wins, and a
 * later record is accepted only with a greater version than every record accepted before it
 * (a compare-and-set that the log's order decides). Across logs, which have no common order,
 * the greatest accepted registry by compareRegistries (version, appliedAt, region, hash) wins.
 * Every region holds the same logs once replication caught up, so every region picks the same
 * winner, whatever order it read the logs in.
 */
export class RegistryLogs {
  private readonly latest = new Map<string, RegistryEntry>();
  private readonly accepted: PublishedRegistry[] = [];

  /** `keepHistory`: remember every accepted record (what plan checks re-additions against). */
  constructor(
    private readonly project: string,
    private readonly keepHistory = false,
  ) {}

  /** Folds the next record of `topic` (records of one topic must come in offset order). */
  add(topic: string, offset: string, value: Buffer | null): RecordOutcome {
    if (value === null) return { kind: "tombstone", topic, offset };
    let valid: ValidRegistryRecord;
    try {
      valid = decodePublishedRegistry(value, this.project);
    } catch (error) {
      if (!isStrataError(error, "STRATA_E_REGISTRY_INVALID")) throw error;
      return { kind: "refused", error, topic, offset };
    }
    const entry: RegistryEntry = { ...valid, topic, offset };
    const current = this.latest.get(topic);
    if (current && entry.record.version <= current.record.version) {
      return { kind: "superseded", entry, by: current };
    }
    this.latest.set(topic, entry);
    if (this.keepHistory) this.accepted.push(entry.record);
    return { kind: "accepted", entry };
  }

  /** Every accepted record, when kept (constructor), in the order every region ranks them. */
  history(): PublishedRegistry[] {
    return [...this.accepted].sort(compareRegistries);
  }

  /** The registry every region serves once it has read what this reader has: the greatest accepted. */
  winner(): RegistryEntry | undefined {
    let best: RegistryEntry | undefined;
    for (const entry of this.latest.values()) {
      if (!best || compareRegistries(entry.record, best.record) > 0) best = entry;
    }
    return best;
  }

  /** The newest accepted registry of one log. */
  latestOf(topic: string): RegistryEntry | undefined {
    return this.latest.get(topic);
  }
}
