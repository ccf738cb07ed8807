import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { queryVector } from "../../../shared/drift/prometheus-client.js";
import { sigV4PrometheusSigner } from "../../../shared/drift/prometheus-sigv4.js";
import { isStrataError } from "../../../shared/errors.js";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };

test("a SigV4-signed query carries the aps signature over its host, body and time", async () => {
  let seen: IncomingMessage | undefined;
  let body = "";
  const server = createServer((req, res) => {
    seen = req;
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ status: "success", data: { resultType: "vector", result: [] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await queryVector(`http://127.0.0.1:${port}/workspaces/ws-1/`, "up", {
      timeMs: 1_700_000_000_000,
      sign: sigV4PrometheusSigner("eu-west-1", credentials),
    });
    const headers = seen!.headers;
    assert.match(
      String(headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/aps\/aws4_request, SignedHeaders=[^,]*\bhost\b[^,]*, Signature=[0-9a-f]{64}$/,
    );
    assert.match(String(headers["x-amz-date"]), /^\d{8}T\d{6}Z$/);
    // The body is signed as sent: its SHA-256 is the one the signature covers.
    const { createHash } = await import("node:crypto");
    assert.equal(headers["x-amz-content-sha256"], createHash("sha256").update(body).digest("hex"));
    assert.equal(seen!.url, "/workspaces/ws-1/api/v1/query");
  } finally {
    server.close();
  }
});

test("a query that cannot be signed (no credentials) fails before anything is sent", async () => {
  await assert.rejects(
    queryVector("http://127.0.0.1:1/", "up", {
      timeMs: 0,
      sign: sigV4PrometheusSigner("eu-west-1", () => Promise.reject(new Error("no credentials"))),
    }),
    (error: unknown) =>
      isStrataError(error, "STRATA_E_PROMETHEUS_UNAVAILABLE") &&
      /could not be signed/.test(error.message),
  );
});
