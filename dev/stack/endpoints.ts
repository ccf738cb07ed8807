import { StackError } from "./stack-error.js";

/**
 * Where the local stack's services listen (region 0; other regions: layout.ts), before
 * STRATA_STACK_PORT_OFFSET. Non-default ports so that a developer's own Redis (6379) or
 * Kafka (9092) is never touched; loopback only.
 */
export const BASE_PORTS = {
  redis: 16379,
  cluster: [17001, 17002, 17003],
  kafka: 19092,
  kafkaController: 19093,
  /** Kafka Connect's REST API (region 0's worker, which runs the offline store's sink). */
  connect: 18083,
  /** PostgreSQL, the CDC sources' database (docs/sources.md). */
  postgres: 15432,
} as const;

export interface LocalPorts {
  redis: number;
  cluster: number[];
  kafka: number;
  kafkaController: number;
}

/**
 * STRATA_STACK_PORT_OFFSET (default 0) shifts every port of the stack, so that two stacks
 * (two checkouts) run side by side. Multiples of 1000 keep the shifted ranges apart.
 */
export function portOffset(env: NodeJS.ProcessEnv = process.env): number {
  const text = nonEmpty(env.STRATA_STACK_PORT_OFFSET);
  if (text === undefined) return 0;
  const offset = Number(text);
  // The highest base port (a cluster node's bus port, 17003 + 10000) must stay below 65536.
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(offset) || offset > 30_000) {
    throw new StackError(
      `STRATA_STACK_PORT_OFFSET "${text}" is not a whole number from 0 to 30000`,
      "use a multiple of 1000, e.g. STRATA_STACK_PORT_OFFSET=1000",
    );
  }
  return offset;
}

/**
 * Region 0's Kafka Connect REST API: STRATA_CONNECT_URL when set, else the stack's worker
 * (STRATA_STACK_PORT_OFFSET applied).
 */
export function connectUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (
    nonEmpty(env.STRATA_CONNECT_URL) ?? `http://${LOOPBACK}:${BASE_PORTS.connect + portOffset(env)}`
  );
}

/** Region 0's ports, shifted by the environment's STRATA_STACK_PORT_OFFSET. */
export function localPorts(env: NodeJS.ProcessEnv = process.env): LocalPorts {
  const offset = portOffset(env);
  return {
    redis: BASE_PORTS.redis + offset,
    cluster: BASE_PORTS.cluster.map((port) => port + offset),
    kafka: BASE_PORTS.kafka + offset,
    kafkaController: BASE_PORTS.kafkaController + offset,
  };
}

/** This process' region-0 ports (STRATA_STACK_PORT_OFFSET applied). */
export const LOCAL_PORTS: LocalPorts = localPorts();

export const LOOPBACK = "127.0.0.1";

export interface HostPort {
  host: string;
  port: number;
}

/** An address plus whether it came from the environment (then the stack starts nothing for it). */
export interface Endpoint<T> {
  address: T;
  external: boolean;
  /** The environment variable that supplied the address, when external. */
  source?: string;
}

export interface StackEndpoints {
  redis: Endpoint<string>;
  cluster: Endpoint<HostPort[]>;
  kafka: Endpoint<string[]>;
}

/**
 * Resolves every service address of region 0, honouring `REDIS_URL`, `REDIS_CLUSTER_NODES`
 * (`host:port,host:port,...`), `KAFKA_BROKERS` (`host:port,...`) and, for the defaults,
 * `STRATA_STACK_PORT_OFFSET`. The other regions of a multi-region stack: regions.ts.
 * Tests and the demo call this too, so they always talk to what the stack describes.
 */
export function resolveEndpoints(env: NodeJS.ProcessEnv = process.env): StackEndpoints {
  const redisUrl = nonEmpty(env.REDIS_URL);
  const clusterNodes = nonEmpty(env.REDIS_CLUSTER_NODES);
  const kafkaBrokers = nonEmpty(env.KAFKA_BROKERS);
  const ports = localPorts(env);
  return {
    redis: redisUrl
      ? { address: parseRedisUrl(redisUrl), external: true, source: "REDIS_URL" }
      : { address: `redis://${LOOPBACK}:${ports.redis}`, external: false },
    cluster: clusterNodes
      ? {
          address: parseHostPortList(clusterNodes, "REDIS_CLUSTER_NODES"),
          external: true,
          source: "REDIS_CLUSTER_NODES",
        }
      : {
          address: ports.cluster.map((port) => ({ host: LOOPBACK, port })),
          external: false,
        },
    kafka: kafkaBrokers
      ? {
          address: parseHostPortList(kafkaBrokers, "KAFKA_BROKERS").map(formatHostPort),
          external: true,
          source: "KAFKA_BROKERS",
        }
      : { address: [`${LOOPBACK}:${ports.kafka}`], external: false },
  };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses `host:port,host:port`; IPv6 hosts are written in brackets: `[::1]:7000`. */
export function parseHostPortList(text: string, variable: string): HostPort[] {
  const items = text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (items.length === 0) {
    throw new StackError(`${variable} is empty`, `set ${variable} to host:port[,host:port...]`);
  }
  return items.map((item) => parseHostPort(item, variable));
}

function parseHostPort(item: string, variable: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(item);
  const port = match ? Number(match[3]) : NaN;
  const host = match?.[1] ?? match?.[2];
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new StackError(
      `${variable} has a bad address "${item}"`,
      `write each address as host:port (IPv6 as [addr]:port), separated by commas`,
    );
  }
  return { host, port };
}

function parseRedisUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StackError(`REDIS_URL "${text}" is not a URL`, "use redis://host:port[/db]");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new StackError(
      `REDIS_URL "${text}" has protocol "${url.protocol}"`,
      "use redis:// or rediss://",
    );
  }
  return text;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
