import { hex48 } from "./hex48.js";

/**
 * A hybrid logical clock (Kulkarni et al., OPODIS 2014): a wall-clock millisecond plus a
 * counter, never going backwards, and advanced past every timestamp it observes, so that
 * causally later events always carry larger timestamps even across skewed machines.
 */
export interface Hlc {
  /** Milliseconds since the Unix epoch (at most 2^48 - 1). */
  wallMs: number;
  /** Disambiguates events within one millisecond (at most 0xffff). */
  counter: number;
}

export const HLC_MAX_WALL_MS = 2 ** 48 - 1;
export const HLC_MAX_COUNTER = 0xffff;

export interface HlcOptions {
  /** The physical clock; injectable for tests. */
  now?: () => number;
  /** Remote timestamps further ahead of our physical clock than this are not adopted. */
  maxDriftMs?: number;
}

export class HybridLogicalClock {
  private wallMs = 0;
  private counter = 0;
  private readonly physical: () => number;
  private readonly maxDriftMs: number;

  constructor(options: HlcOptions = {}) {
    this.physical = options.now ?? Date.now;
    this.maxDriftMs = options.maxDriftMs ?? 60_000;
  }

  /** A timestamp for a local event (a write this process originates). */
  now(): Hlc {
    const physical = this.physical();
    if (physical > this.wallMs) {
      this.wallMs = physical;
      this.counter = 0;
    } else {
      this.tick();
    }
    return { wallMs: this.wallMs, counter: this.counter };
  }

  /**
   * Merges a timestamp received from another region, so our next timestamps order after
   * it. Returns false, and ignores it, when it is further ahead than maxDriftMs: one
   * machine with a broken clock must not drag every region's clock into the future.
   */
  observe(remote: Hlc): boolean {
    const physical = this.physical();
    if (remote.wallMs > physical + this.maxDriftMs) return false;
    const wall = Math.max(this.wallMs, remote.wallMs, physical);
    if (wall === this.wallMs && wall === remote.wallMs) {
      this.counter = Math.max(this.counter, remote.counter);
      this.tick();
    } else if (wall === this.wallMs) {
      this.tick();
    } else if (wall === remote.wallMs) {
      this.wallMs = wall;
      this.counter = remote.counter;
      this.tick();
    } else {
      this.wallMs = wall;
      this.counter = 0;
    }
    return true;
  }

  /** Counter overflow borrows the next millisecond rather than wrapping (which would go back). */
  private tick(): void {
    if (this.counter < HLC_MAX_COUNTER) {
      this.counter++;
    } else {
      this.wallMs++;
      this.counter = 0;
    }
  }
}

export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wallMs - b.wallMs || a.counter - b.counter;
}

/** 16 hex digits: 12 for the wall ms, 4 for the counter; fixed width, so text order = time order. */
export function encodeHlc(hlc: Hlc): string {
  return hex48(hlc.wallMs) + hlc.counter.toString(16).padStart(4, "0");
}

export function decodeHlc(text: string): Hlc {
  return {
    wallMs: parseInt(text.slice(0, 12), 16),
    counter: parseInt(text.slice(12, 16), 16),
  };
}
