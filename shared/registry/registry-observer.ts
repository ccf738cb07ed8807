import { Counter, Gauge, Registry } from "prom-client";
import type { LiveRegistry, LiveRegistryListener } from "./live-registry.js";
import type { RegistryRefusal, ServedRegistry } from "./registry-source.js";

type Log = (level: "info" | "warn", message: string, fields: Record<string, unknown>) => void;

/**
 * The registry a process serves, in its metrics and its log: the version and hash served
 * (read at scrape time), swaps and refusals counted, and one log line for each. Label values
 * are bounded: the project (one per process), the hash served now (one series at a time),
 * and a refusal's error code.
 */
export class RegistryObserver implements LiveRegistryListener {
  /** Its metrics, in a registry of their own: merge it into the process' (Registry.merge). */
  readonly metrics = new Registry();
  private readonly swaps: Counter<"project">;
  private readonly refusals: Counter<"project" | "code">;
  private live: LiveRegistry | undefined;

  constructor(private readonly log: Log) {
    const registers = [this.metrics];
    const current = () => this.live?.snapshot();
    const project = () => this.live?.project ?? "";
    new Gauge({
      name: "strata_registry_version",
      help: "Version of the registry this process serves (0: a STRATA_REPO file)",
      labelNames: ["project"],
      registers,
      collect() {
        const served = current();
        if (served) this.set({ project: project() }, served.version);
      },
    });
    new Gauge({
      name: "strata_registry_info",
      help: "The registry this process serves: 1, labelled with its version and content hash",
      labelNames: ["project", "version", "hash"],
      registers,
      collect() {
        const served = current();
        // One series: the registry served now, not every one served since start.
        this.reset();
        if (served) {
          this.set({ project: project(), version: String(served.version), hash: served.hash }, 1);
        }
      },
    });
    this.swaps = new Counter({
      name: "strata_registry_swaps_total",
      help: "Newer registries this process swapped to while running",
      labelNames: ["project"],
      registers,
    });
    this.refusals = new Counter({
      name: "strata_registry_refused_total",
      help: "Registries this process refused (invalid, of another project, or not newer), by error code; it kept serving the one it had",
      labelNames: ["project", "code"],
      registers,
    });
  }

  /** Starts reporting on `live` (subscribe it, or pass it in LiveRegistryOptions.listeners first). */
  observe(live: LiveRegistry): void {
    this.live = live;
    this.swaps.inc({ project: live.project }, 0);
  }

  swapped(next: ServedRegistry, previous: ServedRegistry): void {
    const project = next.registry.project;
    this.swaps.inc({ project });
    this.log("info", "registry swapped", {
      project,
      version: next.version,
      hash: next.hash,
      origin: next.origin,
      previousVersion: previous.version,
      views: next.registry.views().length,
    });
  }

  refused(refusal: RegistryRefusal, served: ServedRegistry): void {
    const project = served.registry.project;
    this.refusals.inc({ project, code: refusal.error.code });
    this.log("warn", "registry refused", {
      project,
      origin: refusal.origin,
      code: refusal.error.code,
      reason: refusal.error.message,
      servedVersion: served.version,
      servedHash: served.hash,
    });
  }
}

/** What /ready reports of the registry served. */
export function registryStatus(served: ServedRegistry): {
  version: number;
  hash: string;
  origin: string;
} {
  return { version: served.version, hash: served.hash, origin: served.origin };
}
