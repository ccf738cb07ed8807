// The multi-region stack as the region tests and the benchmark see it: where each region's
// servers are, and the faults a test may inject (cut a region's replication links, crash
// MirrorMaker 2, restart a broker, wipe a Redis). Everything acts on the recorded layout
// (.stack/regions.json) of this checkout's stack, started by `npm run stack -- up --regions`.
import { kafkaAddress, proxyAddress, redisUrl, type RegionLayout } from "./layout.js";
import { recordedLayout } from "./recorded-layout.js";
import { replicationLag, type FlowLag } from "./replication-lag.js";
import { withRedis } from "./services/redis-node.js";
import { StackError } from "./stack-error.js";
import { stackServices, type StackServices } from "./stack-services.js";
import type { ToxiproxyClient } from "./toxiproxy-client.js";

/** One region of the running stack. */
export interface StackRegion {
  name: string;
  /** Its Redis standalone. */
  redisUrl: string;
  /** Its broker's plain listener: the region's own clients (writers, consumer, tests). */
  kafkaBrokers: string[];
  /** The toxiproxy proxy that carries all MirrorMaker 2 traffic to and from this broker. */
  proxy: { name: string; address: string };
}

export type { FlowLag };

/**
 * The regions of the running multi-region stack, region 0 first. Throws a StackError naming
 * the command to run when the stack runs fewer than `minRegions` regions (or none).
 */
export function stackRegions(minRegions = 2): StackRegion[] {
  const layout = recordedLayout();
  const command = "npm run stack -- up --regions a,b,c";
  if (layout === undefined) {
    // The command goes in the message itself: test runners print messages, not hints.
    throw new StackError(
      `no multi-region stack is recorded in .stack/regions.json; start one with: ${command}`,
    );
  }
  if (layout.regions.length < minRegions) {
    throw new StackError(
      `the stack runs ${layout.regions.length} region(s) (${layout.regions.map((r) => r.name).join(",")}) but this needs at least ${minRegions}; run npm run stack -- down, then ${command}`,
    );
  }
  return layout.regions.map(describe);
}

/** Cuts every replication link of `region`: its proxy is disabled, open connections drop. */
export async function cutRegion(region: string): Promise<void> {
  const { layout, services } = running();
  await toxiproxyOf(services).setEnabled(regionLayout(layout.regions, region).proxyName, false);
}

/** Heals a cut: the region's proxy listens again; MM2 reconnects on its own. */
export async function restoreRegion(region: string): Promise<void> {
  const { layout, services } = running();
  await toxiproxyOf(services).setEnabled(regionLayout(layout.regions, region).proxyName, true);
}

/** The toxiproxy client, for toxics (`timeout`, `limit_data`, latency) on a region's proxy. */
export function toxiproxyClient(): ToxiproxyClient {
  return toxiproxyOf(running().services);
}

/** Crashes MirrorMaker 2 (SIGKILL, no shutdown). Returns whether it was running. */
export function killMirrorMaker(): Promise<boolean> {
  return mirrorMakerOf(running().services).kill();
}

/**
 * Starts MirrorMaker 2 again and waits until a fresh probe record crossed every flow (so
 * every region's proxy must be enabled). It resumes from the offsets it committed in each target.
 */
export async function startMirrorMaker(): Promise<void> {
  const mirrorMaker = mirrorMakerOf(running().services);
  if (mirrorMaker.status().state === "running") return;
  await mirrorMaker.start();
}

/** Stops one region's broker (controlled shutdown); its data stays for startBroker. */
export async function stopBroker(region: string): Promise<void> {
  await regionServices(region).kafka.down();
}

/** Starts one region's stopped broker on its existing data (a restart, never a re-format). */
export async function startBroker(region: string): Promise<void> {
  await regionServices(region).kafka.startKeepingData();
}

/** Stops and starts one region's broker on its data; waits until it answers again. */
export async function restartBroker(region: string): Promise<void> {
  await regionServices(region).kafka.restart();
}

/** Empties one region's Redis standalone (FLUSHALL on that server only). */
export async function wipeRedis(region: string): Promise<void> {
  const { layout } = running();
  const port = regionLayout(layout.regions, region).redisPort;
  await withRedis("127.0.0.1", port, (redis) => redis.flushall());
}

/** Every flow's lag (records, seconds): approximate, see docs/regions.md. */
export function flowLags(): Promise<FlowLag[]> {
  return replicationLag(running().layout);
}

function describe(region: RegionLayout): StackRegion {
  return {
    name: region.name,
    redisUrl: redisUrl(region),
    kafkaBrokers: [kafkaAddress(region)],
    proxy: { name: region.proxyName, address: proxyAddress(region) },
  };
}

function running() {
  stackRegions();
  const layout = recordedLayout()!;
  return { layout, services: stackServices(layout) };
}

function regionLayout(regions: RegionLayout[], name: string): RegionLayout {
  const region = regions.find((r) => r.name === name);
  if (region === undefined) {
    throw new StackError(
      `region "${name}" is not in the stack (${regions.map((r) => r.name).join(",")})`,
    );
  }
  return region;
}

function regionServices(name: string) {
  const { layout, services } = running();
  const index = regionLayout(layout.regions, name).index;
  return services.regions[index]!;
}

function toxiproxyOf(services: StackServices): ToxiproxyClient {
  return services.toxiproxy!.client();
}

function mirrorMakerOf(services: StackServices) {
  return services.mirrorMaker!;
}
