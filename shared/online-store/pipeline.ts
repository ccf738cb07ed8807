import calculateSlot from "cluster-key-slot";
import { Redis, type Cluster } from "ioredis";
import { StrataError } from "../errors.js";

export type RedisClient = Redis | Cluster;

/** One command on one key: the unit a batch is made of. */
export interface KeyedCommand {
  /** The key that routes the command (on a cluster, its slot picks the node). */
  key: string;
  /** The whole command, name first: `["hmget", key, field, ...]`. */
  argv: (string | number)[];
}

export type Reply = [error: Error | null, result: unknown];

/** Whether commands must respect hash slots (a multi-key command on one slot only). */
export function isCluster(client: RedisClient): client is Cluster {
  return !(client instanceof Redis);
}

/**
 * Runs a batch as one pipeline per server. On Redis Cluster, ioredis refuses a pipeline
 * whose keys live on different nodes, so the batch is split by the node that owns each
 * key's slot (ioredis' own slot map), the pipelines run in parallel, and replies come back
 * in the batch's order. A single command skips the pipeline machinery altogether.
 */
export async function execBatch(
  client: RedisClient,
  commands: readonly KeyedCommand[],
): Promise<Reply[]> {
  if (commands.length === 0) return [];
  if (commands.length === 1) return [await runOne(client, commands[0]!)];
  if (!isCluster(client)) return runPipeline(client, commands);

  const groups = new Map<string, number[]>();
  for (let i = 0; i < commands.length; i++) {
    const slot = calculateSlot(commands[i]!.key);
    const owner = client.slots[slot]?.join(",") ?? `slot:${slot}`;
    let group = groups.get(owner);
    if (!group) groups.set(owner, (group = []));
    group.push(i);
  }
  const replies = new Array<Reply>(commands.length);
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      const groupReplies = await runPipeline(
        client,
        indexes.map((i) => commands[i]!),
      ).catch(() =>
        // The slot map moved under us (resharding, failover): fall back to one command each,
        // which ioredis routes and redirects on its own.
        Promise.all(indexes.map((i) => runOne(client, commands[i]!))),
      );
      indexes.forEach((i, n) => (replies[i] = groupReplies[n]!));
    }),
  );
  return replies;
}

/**
 * Runs a batch of large commands, such as the CAS calls of up to ROWS_PER_CAS_CALL rows, with
 * replies in the batch's order as execBatch gives them. On a standalone server each command is
 * written to the connection as soon as it is built, without waiting for the replies before it,
 * so the batch is still pipelined on the wire. ioredis' Pipeline instead concatenates a whole
 * batch into one string before writing it: for the consumer's chunks, a rope of tens of
 * thousands of pieces that V8 must flatten into one large string, and that young-generation
 * collections copy meanwhile. Writing command by command costs the caller less CPU per row.
 *
 * A cluster keeps execBatch's pipeline per node: there the calls are grouped by hash slot, so
 * most carry a single row, and a write per call would cost a system call per row.
 */
export async function execLargeBatch(
  client: RedisClient,
  commands: readonly KeyedCommand[],
): Promise<Reply[]> {
  if (isCluster(client)) return execBatch(client, commands);
  return Promise.all(commands.map((command) => runOne(client, command)));
}

async function runPipeline(
  client: RedisClient,
  commands: readonly KeyedCommand[],
): Promise<Reply[]> {
  const pipeline = client.pipeline();
  for (const { argv } of commands) pipeline.call(argv[0] as string, argv.slice(1));
  const results = await pipeline.exec();
  if (!results) throw new Error("pipeline was discarded");
  return results.map(([error, result]) => (error ? [asError(error), null] : [null, result]));
}

async function runOne(client: RedisClient, { argv }: KeyedCommand): Promise<Reply> {
  try {
    return [null, await client.call(argv[0] as string, argv.slice(1))];
  } catch (error) {
    return [asError(error), null];
  }
}

/** Refuses a client whose commands ioredis would prefix: the store's keys must be exactly its own. */
export function assertNoKeyPrefix(client: RedisClient): void {
  const options = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
  if (options.keyPrefix || options.redisOptions?.keyPrefix) {
    throw new StrataError(
      "STRATA_E_BAD_CONFIG",
      "the Redis client has a keyPrefix; the online store needs a client without one (its keys, hash slots and scripts name whole keys)",
      {},
    );
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
