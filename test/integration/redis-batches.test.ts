import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  execBatch,
  execLargeBatch,
  type KeyedCommand,
  type Reply,
} from "../../shared/online-store/pipeline.js";
import { connectRedis, TOPOLOGIES, uniqueName, type RedisClient } from "../support/servers.js";

// The two ways the store runs a batch of commands (a pipeline per server, or command by
// command for large ones) must answer alike: each command's reply or error in the batch's
// order, and the commands of one key applied in the order given.
const RUNNERS = { execBatch, execLargeBatch };

for (const topology of TOPOLOGIES) {
  for (const [name, run] of Object.entries(RUNNERS)) {
    describe(`${name} on ${topology}`, () => {
      let client: RedisClient;
      before(() => {
        client = connectRedis(topology);
      });
      after(() => client.quit());

      it("answers each command in the batch's order, an error in its own place", async () => {
        // Hash slots 15495 and 3300: on a cluster of three or more masters, two nodes.
        const [a, b] = [`{a}${uniqueName("batch")}`, `{b}${uniqueName("batch")}`];
        const commands: KeyedCommand[] = [
          { key: a, argv: ["set", a, "1"] },
          { key: b, argv: ["set", b, 2] },
          { key: a, argv: ["hset", a, "field", "value"] },
          { key: a, argv: ["get", a] },
          { key: b, argv: ["get", b] },
        ];
        const replies = await run(client, commands);
        assert.deepEqual(withoutErrors(replies), [
          [null, "OK"],
          [null, "OK"],
          ["error", null],
          [null, "1"],
          [null, "2"],
        ]);
        assert.match(replies[2]![0]!.message, /WRONGTYPE/);
      });

      it("applies the commands of one key in the order given", async () => {
        const keys = Array.from({ length: 5 }, (_, i) => `${uniqueName("order")}:${i}`);
        const commands = Array.from({ length: 500 }, (_, i) => {
          const key = keys[i % keys.length]!;
          return { key, argv: ["incr", key] };
        });
        const replies = await run(client, commands);
        // INCR answers 1, 2, 3, ... per key only if the key's commands ran in the batch's order.
        assert.deepEqual(
          replies,
          commands.map((_, i) => [null, Math.floor(i / keys.length) + 1]),
        );
      });
    });
  }
}

function withoutErrors(replies: Reply[]): [string | null, unknown][] {
  return replies.map(([error, result]) => [error ? "error" : null, result]);
}
