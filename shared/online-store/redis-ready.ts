import type { RedisClient } from "./pipeline.js";

/**
 * Resolves once the client can serve commands: a Cluster must have loaded its slot map and
 * connected its nodes before `nodes("master")` lists them.
 */
export async function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return;
  if (client.status === "wait") await client.connect();
  if ((client.status as string) === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      reject(new Error(`Redis was not ready within ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("ready", onReady);
  });
}
