import { BASE_PORTS, LOOPBACK, portOffset } from "./endpoints.js";
import { StackError } from "./stack-error.js";

/** The one region of a stack started without `--regions`: STRATA_REGION's default too. */
export const DEFAULT_REGIONS = ["local"] as const;

/** Ports are laid out for this many regions (one block of 10 per region). */
export const MAX_REGIONS = 8;

/** Region i's Kafka ports are the block `KAFKA_BLOCK_BASE + 10 * i` (before the offset). */
const KAFKA_BLOCK_STEP = 10;
/** The toxiproxy API, on toxiproxy's own default port (8474) moved into the stack's range. */
const TOXIPROXY_API_BASE = 18474;
/** Prometheus' HTTP API, on Prometheus' own default port (9090) moved into the stack's range. */
const PROMETHEUS_BASE = 18090;

/**
 * MM2 cluster aliases and topic prefixes (`<region>.strata.<project>.changelog`): the
 * version's region alphabet, no dots. "strata" is refused because its replicated topics
 * (`strata.strata.<p>.changelog`) would match the replicated-topic filter and loop.
 */
const REGION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const RESERVED_REGION_NAMES = new Set(["strata"]);

/** Every port of one region of the local stack. */
export interface RegionLayout {
  name: string;
  index: number;
  /** Redis standalone: 16379 + i. */
  redisPort: number;
  /** The broker's plain listener, for the region's own clients: 19092 + 10i. */
  kafkaPort: number;
  /** The KRaft controller listener: 19093 + 10i. */
  controllerPort: number;
  /** The broker's PEER listener, reached only through the proxy: 19094 + 10i. */
  peerPort: number;
  /** The toxiproxy listener advertised on the PEER listener (MM2's bootstrap): 19095 + 10i. */
  proxyPort: number;
  /** The toxiproxy proxy's name: `kafka-<region>`. */
  proxyName: string;
}

/** What the stack runs: its regions, their ports, and the shared services' ports. */
export interface StackLayout {
  portOffset: number;
  regions: RegionLayout[];
  /** The Redis Cluster (region 0 only). */
  clusterPorts: number[];
  /** toxiproxy's HTTP API (multi-region only). */
  toxiproxyApiPort: number;
  /** Prometheus (one for every region). */
  prometheusPort: number;
}

/**
 * Parses `--regions a,b,c`: lowercase letters, digits and '-', distinct, at most
 * MAX_REGIONS. The first region gets the single-region stack's ports.
 */
export function parseRegionList(text: string): string[] {
  const regions = text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (regions.length === 0) {
    throw new StackError(`the region list "${text}" is empty`, "write regions as a,b,c");
  }
  if (regions.length > MAX_REGIONS) {
    throw new StackError(
      `${regions.length} regions given; the local stack lays out ports for at most ${MAX_REGIONS}`,
      "name fewer regions",
    );
  }
  for (const region of regions) {
    if (!REGION_NAME.test(region)) {
      throw new StackError(
        `region name "${region}" is not allowed`,
        "use lowercase letters, digits and '-' (at most 63, not starting with '-'); names become MirrorMaker 2 aliases and topic prefixes",
      );
    }
    if (RESERVED_REGION_NAMES.has(region)) {
      throw new StackError(
        `region name "${region}" is reserved`,
        `a region named "${region}" would make replicated topics look like local ones; pick another name`,
      );
    }
  }
  const duplicate = regions.find((region, i) => regions.indexOf(region) !== i);
  if (duplicate !== undefined) {
    throw new StackError(`region "${duplicate}" is named twice in "${text}"`);
  }
  return regions;
}

/** The ports of every region, shifted by the offset (STRATA_STACK_PORT_OFFSET by default). */
export function stackLayout(
  regions: readonly string[],
  offset: number = portOffset(),
): StackLayout {
  return {
    portOffset: offset,
    regions: regions.map((name, index) => regionLayout(name, index, offset)),
    clusterPorts: BASE_PORTS.cluster.map((port) => port + offset),
    toxiproxyApiPort: TOXIPROXY_API_BASE + offset,
    prometheusPort: PROMETHEUS_BASE + offset,
  };
}

function regionLayout(name: string, index: number, offset: number): RegionLayout {
  const block = BASE_PORTS.kafka + KAFKA_BLOCK_STEP * index + offset;
  return {
    name,
    index,
    redisPort: BASE_PORTS.redis + index + offset,
    kafkaPort: block,
    controllerPort: block + 1,
    peerPort: block + 2,
    proxyPort: block + 3,
    proxyName: `kafka-${name}`,
  };
}

/** A multi-region stack runs toxiproxy and MirrorMaker 2; one region runs neither. */
export function isMultiRegion(layout: StackLayout): boolean {
  return layout.regions.length > 1;
}

/** Region 0's services keep their single-region names (redis, kafka); others are suffixed. */
export function serviceName(kind: "redis" | "kafka", region: RegionLayout): string {
  return region.index === 0 ? kind : `${kind}-${region.name}`;
}

export function redisUrl(region: RegionLayout): string {
  return `redis://${LOOPBACK}:${region.redisPort}`;
}

export function kafkaAddress(region: RegionLayout): string {
  return `${LOOPBACK}:${region.kafkaPort}`;
}

export function proxyAddress(region: RegionLayout): string {
  return `${LOOPBACK}:${region.proxyPort}`;
}

/** Two layouts describe the same running stack: same regions in the same order, same ports. */
export function sameLayout(a: StackLayout, b: StackLayout): boolean {
  return (
    a.portOffset === b.portOffset &&
    a.regions.map((region) => region.name).join(",") ===
      b.regions.map((region) => region.name).join(",")
  );
}
