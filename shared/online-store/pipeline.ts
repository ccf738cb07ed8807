import calculateSlot from "cluster-key-slot";
import { Redis, type Cluster } from "ioredis";

export type RedisClient = Redis | Cluster;

/** One command on one key: the unit a batch is made of. */
export interface KeyedCommand {
  /** The key that routes the command (on a cluster, its slot picks the node). */
  key: string;
  /** The whole command, name first: `["hmget", key, field, ...]`. Built once, never copied. */
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
  if (commands.length === 1) {
    const only = commands[0]!;
    try {
      return [[null, await client.call(only.argv[0] as string, only.argv.slice(1))]];
    } catch (error) {
      return [[asError(error), null]];
    }
  }
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

async function runPipeline(
  client: RedisClient,
  commands: readonly KeyedCommand[],
): Promise<Reply[]> {
  const results = await client.pipeline(commands.map((c) => c.argv)).exec();
  if (!results) throw new Error("pipeline was discarded");
  return results.map(([error, result]) => [error ? asError(error) : null, result]);
}

async function runOne(client: RedisClient, command: KeyedCommand): Promise<Reply> {
  try {
    return [null, await client.call(command.argv[0] as string, command.argv.slice(1))];
  } catch (error) {
    return [asError(error), null];
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
