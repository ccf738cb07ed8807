import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { runInProcess } from "../../support/cli.js";

/** A stand-in for a server's POST /push: records each body, answers as Strata does. */
describe("strata push against a /push endpoint", () => {
  const bodies: { push_source_name: string; df: Record<string, unknown[]>; wait: string }[] = [];
  let server: http.Server;
  let url: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), "strata-push-"));
  const file = path.join(dir, "rows.jsonl");
  writeFileSync(
    file,
    [
      '{"id": 1, "x": 0.5}',
      "",
      '{"id": 2, "x": 0.25}',
      '{"id": 3, "x": 1, "event_timestamp": "2026-01-01T00:00:00Z"}',
    ].join("\n"),
  );

  before(async () => {
    server = http.createServer((request, response) => {
      let text = "";
      request.on("data", (chunk: Buffer) => (text += chunk.toString()));
      request.on("end", () => {
        const body = JSON.parse(text) as (typeof bodies)[number];
        bodies.push(body);
        const rows = Object.values(body.df)[0]!.length;
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ status: "ok", rows, views: ["v@1"], reached: "acked" }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it("sends a file in requests of --batch rows, stamping rows that have no event time", async () => {
    bodies.length = 0;
    const run = await runInProcess([
      "push",
      "src",
      "--file",
      file,
      "--batch",
      "2",
      "--url",
      url,
      "--json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      status: "ok",
      push_source_name: "src",
      rows: 3,
      requests: 2,
      views: ["v@1"],
      reached: "acked",
    });
    assert.deepEqual(
      bodies.map((b) => [b.push_source_name, b.wait, b.df.id, b.df.x]),
      [
        ["src", "acked", [1, 2], [0.5, 0.25]],
        ["src", "acked", [3], [1]],
      ],
    );
    const stamped = bodies[0]!.df.event_timestamp as string[];
    assert.ok(
      stamped.every((t) => Math.abs(Date.parse(t) - Date.now()) < 60_000),
      String(stamped),
    );
    assert.deepEqual(bodies[1]!.df.event_timestamp, ["2026-01-01T00:00:00Z"]);
  });

  it("draws progress on stderr on a terminal, and nothing off one", async () => {
    const onTty = await runInProcess(["push", "src", "--file", file, "--url", url], { tty: true });
    assert.equal(onTty.code, 0, onTty.stderr);
    assert.match(onTty.stderr, /^\rpushing .*rows\.jsonl \[#+-*\] \d+% 3 rows/);
    const piped = await runInProcess(["push", "src", "--file", file, "--url", url]);
    assert.equal(piped.stderr, "");
    assert.equal(piped.stdout, "pushed 3 rows to v@1 in 1 request: acked\n");
  });
});
