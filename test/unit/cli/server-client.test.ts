import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { UserError } from "../../../cli/errors.js";
import { printJson } from "../../../cli/output.js";
import { parseRow } from "../../../cli/push-input.js";
import { postJson, serverTarget } from "../../../cli/server-client.js";
import { StrataError } from "../../../shared/errors.js";

/** Ports the Fetch standard refuses to connect to; 6566, Strata's default, is one of them. */
const FETCH_BLOCKED_PORTS = [6566, 10080, 6679, 6697, 6665, 6666, 6667, 6668, 6669];

async function listen(
  handler: http.RequestListener,
  ports: readonly number[],
): Promise<http.Server | undefined> {
  for (const port of ports) {
    const server = http.createServer(handler);
    const bound = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (bound) return server;
  }
  return undefined;
}

const echo: http.RequestListener = (request, response) => {
  let body = "";
  request.on("data", (chunk: Buffer) => (body += chunk.toString()));
  request.on("end", () => {
    if (request.url === "/fail") {
      response.writeHead(404, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          error: {
            code: "STRATA_E_UNKNOWN_PUSH_SOURCE",
            message: "no push source x",
            details: { name: "x" },
          },
        }),
      );
      return;
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        got: JSON.parse(body) as unknown,
        auth: request.headers.authorization ?? null,
      }),
    );
  });
};

describe("strata: calling a Strata server", () => {
  it("reaches a server on a port that fetch refuses (6566 is Strata's default)", async (t) => {
    const server = await listen(echo, FETCH_BLOCKED_PORTS);
    if (!server) return t.skip("every fetch-blocked port tried is taken on this machine");
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await postJson({ url: `http://127.0.0.1:${port}`, apiKey: "k1" }, "/echo", {
        a: 1,
      });
      assert.deepEqual(answer, { got: { a: 1 }, auth: "Bearer k1" });
    } finally {
      server.close();
    }
  });

  it("sends and reads int64 values beyond 2^53 exactly: a --row or --entities value, and the server's answer", async () => {
    let sent = "";
    const raw: http.RequestListener = (request, response) => {
      request.on("data", (chunk: Buffer) => (sent += chunk.toString()));
      request.on("end", () => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end('{"values":[9007199254740993,0.5]}');
      });
    };
    const server = (await listen(raw, [0]))!;
    try {
      const { port } = server.address() as AddressInfo;
      const row = parseRow('{"driver_id": 9007199254740993, "rate": 0.5}', "--row");
      const answer = await postJson({ url: `http://127.0.0.1:${port}` }, "/push", { rows: [row] });
      assert.equal(sent, '{"rows":[{"driver_id":9007199254740993,"rate":0.5}]}');
      const out: string[] = [];
      printJson({ write: (text: string) => out.push(text) }, answer);
      assert.equal(out.join(""), '{"values":[9007199254740993,0.5]}\n');
    } finally {
      server.close();
    }
  });

  it("turns a Strata error answer into the same StrataError", async () => {
    const server = (await listen(echo, [0]))!;
    try {
      const { port } = server.address() as AddressInfo;
      await assert.rejects(
        postJson({ url: `http://127.0.0.1:${port}` }, "/fail", {}),
        (error: unknown) => {
          assert.ok(error instanceof StrataError);
          assert.equal(error.code, "STRATA_E_UNKNOWN_PUSH_SOURCE");
          assert.deepEqual(error.details, { name: "x" });
          return true;
        },
      );
    } finally {
      server.close();
    }
  });

  it("takes the URL from the flag, else STRATA_URL, else http://127.0.0.1:6566; the key likewise", () => {
    assert.deepEqual(serverTarget({}, {}), { url: "http://127.0.0.1:6566", apiKey: undefined });
    assert.deepEqual(serverTarget({ STRATA_URL: "http://h:1/", STRATA_API_KEY: "e" }, {}), {
      url: "http://h:1",
      apiKey: "e",
    });
    assert.deepEqual(
      serverTarget({ STRATA_URL: "http://h:1" }, { url: "https://f:2", apiKey: "f" }),
      { url: "https://f:2", apiKey: "f" },
    );
    assert.throws(() => serverTarget({}, { url: "h:1" }), UserError);
  });
});
