// The HTTP layer's last resorts, on a server of the test's own: what it answers, and logs, when
// the core fails to answer, when a response cannot be sent, and when Node's parser gives up.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import type { CoreRequest, CoreResponse } from "../../../functions/serve/handler.js";
import { startHttpServer } from "../../../functions/serve/http-server.js";

async function serverWith(handle: (request: CoreRequest) => Promise<CoreResponse>) {
  const logged: string[] = [];
  const server = await startHttpServer(handle, {
    host: "127.0.0.1",
    port: 0,
    maxBodyBytes: 1_024,
    requestTimeoutMs: 5_000,
    logError: (message) => logged.push(message),
  });
  return { server, logged };
}

describe("HTTP server last resorts", () => {
  it("answers a core that fails to answer with a JSON 500, and logs it", async () => {
    const { server, logged } = await serverWith(() => Promise.reject(new Error("core bug")));
    try {
      const response = await fetch(`${server.url}/health`);
      assert.equal(response.status, 500);
      assert.equal(
        ((await response.json()) as { error: { code: string } }).error.code,
        "STRATA_E_INTERNAL",
      );
      assert.equal(logged.length, 1);
    } finally {
      await server.close(100);
    }
  });

  it("closes the connection when a response cannot be sent, logs why, and keeps serving", async () => {
    let calls = 0;
    const { server, logged } = await serverWith(() =>
      Promise.resolve<CoreResponse>(
        ++calls === 1
          ? { status: 200, headers: { "x-bad": "line\nbreak" }, body: "{}" }
          : { status: 200, headers: {}, body: "{}" },
      ),
    );
    try {
      await assert.rejects(fetch(`${server.url}/health`));
      assert.equal(logged.length, 1);
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
    } finally {
      await server.close(100);
    }
  });

  it("answers a request that did not arrive in time with a JSON 408", async () => {
    const { server } = await serverWith(() =>
      Promise.resolve({ status: 200, headers: {}, body: "" }),
    );
    try {
      // Node checks request timeouts every 30 s: raise the parser's timeout error at once.
      const accepted = new Promise<net.Socket>((resolve) =>
        server.server.once("connection", resolve),
      );
      const url = new URL(server.url);
      const client = net.connect(Number(url.port), url.hostname);
      let received = "";
      client.on("data", (chunk: Buffer) => (received += chunk.toString()));
      const closed = new Promise((resolve) => client.once("close", resolve));
      client.write("POST /get-online-features HTTP/1.1\r\nHost: x\r\n");
      const socket = await accepted;
      server.server.emit(
        "clientError",
        Object.assign(new Error("Request timeout"), { code: "ERR_HTTP_REQUEST_TIMEOUT" }),
        socket,
      );
      await closed;
      assert.match(received, /^HTTP\/1\.1 408 /);
      const body = JSON.parse(received.slice(received.indexOf("\r\n\r\n") + 4)) as {
        error: { code: string };
      };
      assert.equal(body.error.code, "STRATA_E_REQUEST_TIMEOUT");
    } finally {
      await server.close(100);
    }
  });
});
