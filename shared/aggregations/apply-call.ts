import { entityRedisKey } from "../key-codec.js";
import { isNoScript, LuaScript } from "../online-store/lua-script.js";
import { execBatch, type KeyedCommand, type RedisClient } from "../online-store/pipeline.js";
import type { ResolvedAggregation } from "../registry/aggregation-view.js";
import type { ResolvedAggregationView } from "../registry/feature-registry.js";
import type { AggregationEvent } from "./event.js";
import { aggregationPrefix } from "./redis-fields.js";

/**
 * lua/aggregate-apply.lua: one entity's batch of events, exactly once. The body every view's
 * script shares; a call runs the view's own script (aggregateScript).
 */
export const AGGREGATE_SCRIPT = LuaScript.fromFile("aggregate-apply");

/** What the apply script did with one call's events. */
export interface ApplyResult {
  applied: number;
  /** Events at or below their source partition's last applied offset: replays, skipped. */
  duplicates: number;
  /** Events older than the watermark minus the allowed lateness, in the call's order. */
  late: AggregationEvent[];
}

/** One call: a view major, an entity, its events in source offset order. */
export interface ApplyCall {
  command: KeyedCommand;
  /** The view's script, which the call runs by SHA (and as EVAL when a server lost it). */
  script: LuaScript;
  events: readonly AggregationEvent[];
}

/** Each resolved view's script; views with the same spec share one text, so one SHA. */
const scripts = new WeakMap<ResolvedAggregationView, LuaScript>();

/**
 * The apply script of a view: its spec as Lua constants in front of the shared body. Lua
 * compiles the constants once when a server loads the script, where an argument would be sent
 * and split into strings again on every call.
 */
export function aggregateScript(view: ResolvedAggregationView): LuaScript {
  const cached = scripts.get(view);
  if (cached) return cached;
  const { aggregations, inputs, allowedLatenessMs } = view.aggregation;
  const column = new Map(inputs.map((input, i) => [input.name, i + 1]));
  const prefix = aggregationPrefix(view.key);
  const aggs = aggregations.map((agg) => {
    const fields = [
      `name = ${luaString(`${prefix}${agg.name}:`)}`,
      `kind = ${luaString(scriptKind(agg))}`,
      `tile = ${luaNumber(agg.tileMs)}`,
      `window = ${luaNumber(agg.windowMs)}`,
      `n = ${luaNumber(agg.n)}`,
      `col = ${luaNumber(agg.column ? column.get(agg.column.name)! : 0)}`,
      "touched = {}",
    ];
    return `  { ${fields.join(", ")} },`;
  });
  const spec = [
    `local prefix, lateness, nCols = ${luaString(prefix)}, ${luaNumber(allowedLatenessMs)}, ${inputs.length}`,
    "local aggs = {",
    ...aggs,
    "}",
  ].join("\n");
  const script = new LuaScript(AGGREGATE_SCRIPT.name, `${spec}\n${AGGREGATE_SCRIPT.source}`);
  scripts.set(view, script);
  return script;
}

/** A Lua string literal: every byte but letters, digits and a few marks as a decimal escape. */
function luaString(text: string): string {
  let out = "'";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_@#:.-]/.test(c) ? c : `\\${String(byte).padStart(3, "0")}`;
  }
  return `${out}'`;
}

/** A Lua number literal of a safe integer (every number of a spec is one). */
function luaNumber(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not a safe integer: ${value}`);
  return String(value);
}

function scriptKind(agg: ResolvedAggregation): string {
  const float = agg.column?.type === "float32" || agg.column?.type === "float64";
  switch (agg.function) {
    case "count":
    case "last_n":
      return agg.function;
    case "sum":
    case "mean":
      return `${agg.function}${agg.integerSum ? "i" : "f"}`;
    case "min":
    case "max":
      return `${agg.function}${float ? "f" : "i"}`;
  }
}

/**
 * Groups events into calls, one per (view major, entity), keeping each entity's events in the
 * order given (the source partition's offset order, which lateness is judged in).
 */
export function applyCalls(project: string, events: readonly AggregationEvent[]): ApplyCall[] {
  const groups = new Map<
    string,
    { view: ResolvedAggregationView; entity: string; events: AggregationEvent[] }
  >();
  for (const event of events) {
    const id = `${event.view.key}\u0000${event.entity}`;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { view: event.view, entity: event.entity, events: [] }));
    group.events.push(event);
  }
  return [...groups.values()].map(({ view, entity, events }) => {
    const key = entityRedisKey(project, view.entitySet, entity);
    const script = aggregateScript(view);
    const argv = script.evalshaArgv([key]);
    for (const event of events) {
      argv.push(event.eventTsMs, event.sourceTopic, event.partition, event.offset, ...event.texts);
    }
    return { command: { key, argv }, script, events };
  });
}

/**
 * Runs the calls pipelined (per node on a cluster); a server that lost the script gets those
 * calls again as EVAL. Throws the first error: the caller retries the whole batch, which the
 * offsets in each entity's hash make safe.
 */
export async function runApplyCalls(
  redis: RedisClient,
  calls: readonly ApplyCall[],
): Promise<ApplyResult[]> {
  const commands = calls.map((c) => c.command);
  const replies = await execBatch(redis, commands);
  const reload = replies.flatMap(([error], i) => (isNoScript(error) ? [i] : []));
  if (reload.length > 0) {
    const retried = await execBatch(
      redis,
      reload.map((i) => ({
        key: commands[i]!.key,
        argv: calls[i]!.script.asEval(commands[i]!.argv),
      })),
    );
    reload.forEach((i, n) => (replies[i] = retried[n]!));
  }
  return replies.map(([error, reply], i) => {
    if (error) throw error;
    const [applied, duplicates, ...late] = reply as number[];
    const events = calls[i]!.events;
    return { applied: applied!, duplicates: duplicates!, late: late.map((p) => events[p - 1]!) };
  });
}
