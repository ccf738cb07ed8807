import { resolveEndpoints } from "./endpoints.js";
import {
  DEFAULT_REGIONS,
  isMultiRegion,
  sameLayout,
  stackLayout,
  type StackLayout,
} from "./layout.js";
import { ensureDuckDBExtensions } from "./duckdb-extensions.js";
import { ensureRedis } from "./prerequisites.js";
import { currentLayout, forgetLayout, recordLayout } from "./recorded-layout.js";
import type { ServiceStatus, UpOutcome } from "./services/service.js";
import { StackError } from "./stack-error.js";
import { startPhases, stackServices } from "./stack-services.js";

export interface UpReport {
  layout: StackLayout;
  outcomes: Record<string, UpOutcome>;
  seconds: number;
}

export interface UpOptions {
  /**
   * Region names, region 0 first. Default: the layout that runs (as recorded), else one
   * region (DEFAULT_REGIONS); so a bare `up` never fights a multi-region stack.
   */
  regions?: readonly string[];
  log?: (line: string) => void;
}

/**
 * Brings every service of the layout up: the regions' servers (and toxiproxy) in parallel
 * (Kafka's JVM start dominates), then MirrorMaker 2. Idempotent: a service that already runs
 * is reused, one given by the environment is left alone. A stack that runs another region
 * list is refused, never half-reconciled: `down` first.
 */
export async function stackUp(options: UpOptions = {}): Promise<UpReport> {
  const log = options.log ?? console.log;
  const started = performance.now();
  const layout = options.regions ? stackLayout(options.regions) : defaultLayout();
  const endpoints = resolveEndpoints();
  if (isMultiRegion(layout)) refuseExternalServers(endpoints);
  refuseOtherRunningLayout(layout);
  recordLayout(layout);
  if (!endpoints.redis.external || !endpoints.cluster.external) await ensureRedis(log);
  // The offline store's reader (embedded DuckDB) loads these; fetched once per machine.
  ensureDuckDBExtensions(log);
  const outcomes: Record<string, UpOutcome> = {};
  for (const phase of startPhases(stackServices(layout))) {
    await Promise.all(
      phase.map(async (service) => {
        const t0 = performance.now();
        outcomes[service.name] = await service.up(log);
        const took = ((performance.now() - t0) / 1000).toFixed(1);
        log(`${service.name.padEnd(12)} ${outcomes[service.name]} (${took}s)`);
      }),
    );
  }
  return { layout, outcomes, seconds: (performance.now() - started) / 1000 };
}

/** Stops only what the stack started (by recorded pid), in reverse start order. */
export async function stackDown(log: (line: string) => void = console.log): Promise<void> {
  const phases = startPhases(stackServices(currentLayout()));
  for (const phase of phases.reverse()) {
    for (const service of [...phase].reverse()) {
      const stopped = await service.down();
      log(`${service.name.padEnd(12)} ${stopped ? "stopped" : "was not running"}`);
    }
  }
  forgetLayout();
}

/** Every service of the recorded layout (or the default one), in start order. */
export function stackStatus(layout: StackLayout = currentLayout()): ServiceStatus[] {
  const services = stackServices(layout);
  const rows: ServiceStatus[] = [];
  services.regions.forEach((region, i) => {
    rows.push({ ...region.redis.status(), region: region.region });
    if (i === 0) rows.push({ ...services.cluster.status(), region: region.region });
    rows.push({ ...region.kafka.status(), region: region.region });
  });
  if (services.toxiproxy) rows.push(services.toxiproxy.status());
  if (services.mirrorMaker) rows.push(services.mirrorMaker.status());
  rows.push({ ...services.connect.status(), region: layout.regions[0]!.name });
  rows.push(services.prometheus.status());
  rows.push({ ...services.postgres.status(), region: layout.regions[0]!.name });
  return rows;
}

export function formatStatus(rows: ServiceStatus[]): string {
  return rows
    .map((row) => {
      const detail =
        row.state === "external"
          ? `from ${row.source}`
          : row.pids.length > 0
            ? `pid ${row.pids.join(",")}`
            : "";
      const region = (row.region ?? "-").padEnd(8);
      return `${region} ${row.name.padEnd(12)} ${row.state.padEnd(9)} ${row.address}  ${detail}`.trimEnd();
    })
    .join("\n");
}

function defaultLayout(): StackLayout {
  const running = currentLayout();
  return stackStatus(running).some((row) => row.state === "running")
    ? running
    : stackLayout(DEFAULT_REGIONS);
}

function refuseExternalServers(endpoints: ReturnType<typeof resolveEndpoints>): void {
  const external = [endpoints.redis, endpoints.cluster, endpoints.kafka]
    .filter((endpoint) => endpoint.external)
    .map((endpoint) => endpoint.source);
  if (external.length > 0) {
    throw new StackError(
      `a multi-region stack runs its own servers, but ${external.join(", ")} is set`,
      `unset ${external.join(" and ")}, or start one region (npm run stack -- up)`,
    );
  }
}

function refuseOtherRunningLayout(wanted: StackLayout): void {
  // No record: a stack started before layouts were recorded runs the default region.
  const running = currentLayout();
  if (sameLayout(running, wanted)) return;
  if (!stackStatus(running).some((row) => row.state === "running")) return;
  const names = (layout: StackLayout) => layout.regions.map((region) => region.name).join(",");
  throw new StackError(
    `the stack already runs regions ${names(running)} (port offset ${running.portOffset}); asked for ${names(wanted)} (offset ${wanted.portOffset})`,
    `npm run stack -- down first, then up --regions ${names(wanted)}`,
  );
}
