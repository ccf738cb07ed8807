import {
  BackfillCoordinator,
  type BackfillSource,
  type BackfillState,
  type StepResult,
} from "../../shared/backfill/index.js";
import { createKafka, kafkaConnection } from "../../shared/changelog/index.js";
import { StrataError } from "../../shared/errors.js";
import { offlineWarehouse } from "../../shared/offline/history-source.js";
import { registerOfflineViews } from "../../shared/offline/offline-tables.js";
import { connectFailFast, OnlineStore } from "../../shared/online-store/index.js";
import { openRegistrySource } from "../../shared/registry/open-registry-source.js";
import type { BackfillConfig } from "./config.js";

/** What every entry point asks the core: one command for one view major. */
export interface BackfillCommand {
  action: "start" | "status" | "advance" | "verify" | "flip" | "abort" | "gc" | "run";
  /** `view@major`. */
  view: string;
  /** start / run: where the rows come from. */
  source?: BackfillSource;
  /** run: flip once verified. */
  flip?: boolean;
  /** gc: delete the old generation before the grace period ends. */
  force?: boolean;
  graceMs?: number;
}

export interface BackfillResult {
  state: BackfillState | undefined;
  /** Set when the stage is not finished yet: call again (gc's grace period, a drain). */
  waiting?: string;
}

export const ACTIONS: readonly BackfillCommand["action"][] = [
  "start",
  "status",
  "advance",
  "verify",
  "flip",
  "abort",
  "gc",
  "run",
];

/** Checks an untrusted command (an HTTP body, an event) and names what is wrong. */
export function parseCommand(input: unknown): BackfillCommand {
  const bad = (message: string) =>
    new StrataError("STRATA_E_BAD_REQUEST", `backfill command: ${message}`, { input });
  if (typeof input !== "object" || input === null) throw bad("not an object");
  const c = input as Record<string, unknown>;
  if (!ACTIONS.includes(c.action as BackfillCommand["action"]))
    throw bad(`action must be one of ${ACTIONS.join(", ")}`);
  if (typeof c.view !== "string" || c.view === "") throw bad("view (view@major) is required");
  let source: BackfillSource | undefined;
  if (c.source !== undefined) {
    const s = c.source as Record<string, unknown>;
    if (s.kind === "file" && typeof s.path === "string") source = { kind: "file", path: s.path };
    else if (s.kind === "sql" && typeof s.sql === "string") source = { kind: "sql", sql: s.sql };
    else if (s.kind === "replay") source = { kind: "replay" };
    else
      throw bad('source must be {"kind":"file","path"}, {"kind":"sql","sql"} or {"kind":"replay"}');
  }
  if ((c.action === "start" || c.action === "run") && !source)
    throw bad(`${c.action} needs a source`);
  return {
    action: c.action as BackfillCommand["action"],
    view: c.view,
    source,
    flip: c.flip === true,
    force: c.force === true,
    graceMs: typeof c.graceMs === "number" ? c.graceMs : undefined,
  };
}

/** Runs one command on an open coordinator. */
export async function runCommand(
  coordinator: BackfillCoordinator,
  command: BackfillCommand,
  graceMs: number,
): Promise<BackfillResult> {
  const grace = command.graceMs ?? graceMs;
  const step = (r: StepResult): BackfillResult => r;
  switch (command.action) {
    case "status":
      return { state: await coordinator.status() };
    case "start":
      return { state: await coordinator.start({ source: command.source!, graceMs: grace }) };
    case "advance":
      return { state: await coordinator.advance() };
    case "verify":
      return { state: await coordinator.verify() };
    case "flip":
      return { state: await coordinator.flip() };
    case "abort":
      return step(await coordinator.abort());
    case "gc":
      return step(await coordinator.gc({ force: command.force }));
    case "run":
      return {
        state: await coordinator.run({
          source: command.source!,
          graceMs: grace,
          flip: command.flip ?? false,
        }),
      };
  }
}

/**
 * Opens what a coordinator needs from the configuration (registry read once, the region's
 * Redis, Kafka), runs `work`, closes everything. Every entry point goes through here.
 */
export async function withCoordinator<T>(
  config: BackfillConfig,
  view: string,
  work: (coordinator: BackfillCoordinator) => Promise<T>,
  onProgress?: (state: BackfillState) => void,
): Promise<T> {
  const source = openRegistrySource(config.registry, `strata-backfill-${config.region}`);
  let registry;
  try {
    registry = (await source.start({ onRegistry: () => undefined, onRefused: () => undefined }))
      .registry;
  } finally {
    await source.stop();
  }
  const client = connectFailFast(config.redis, { commandTimeoutMs: 30_000 });
  const store = await OnlineStore.open({ client, registry, hotCache: false });
  const kafka = createKafka(
    kafkaConnection(config.kafka, `strata-backfill-${config.region}`),
    () => undefined,
  );
  try {
    const coordinator = new BackfillCoordinator(
      {
        store,
        client,
        kafka,
        region: config.region,
        peerRegions: config.peerRegions,
        topics: config.topics,
        maxEventTimeSkewMs: config.maxEventTimeSkewMs,
        drainTimeoutMs: config.drainTimeoutMs,
        onProgress,
        // A --sql source reads the offline store's tables by their view names (<view>_v<major>).
        prepareSql: async (connection) => {
          const warehouse = offlineWarehouse();
          if (warehouse) await registerOfflineViews(connection, registry, warehouse);
        },
      },
      view,
    );
    return await work(coordinator);
  } finally {
    await store.close();
    client.disconnect();
  }
}

/** One command from the environment's configuration: what the Lambda and Azure adapters call. */
export function handleCommand(config: BackfillConfig, input: unknown): Promise<BackfillResult> {
  const command = parseCommand(input);
  return withCoordinator(config, command.view, (c) => runCommand(c, command, config.graceMs));
}
