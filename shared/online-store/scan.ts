import { Redis } from "ioredis";
import type { RedisClient } from "./pipeline.js";

/**
 * SCAN over every master (the one server of a standalone client), yielding each batch of keys
 * that match. Like SCAN itself, a key may be yielded more than once. `count` is SCAN's COUNT
 * hint: entries examined per call.
 */
export async function* scanMasters(
  client: RedisClient,
  pattern: string,
  count = 1_000,
): AsyncGenerator<string[]> {
  const nodes = client instanceof Redis ? [client] : client.nodes("master");
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", pattern, "COUNT", count);
      if (batch.length > 0) yield batch;
      cursor = next;
    } while (cursor !== "0");
  }
}
