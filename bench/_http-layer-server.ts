// The serve benchmark's http_layer scenario: the serving tier's own HTTP layer
// (functions/serve/http-server.ts: body reading, limits, keep-alive, the response write)
// answering every request with the real l1_hit body (FLOOR_BODY) and doing nothing else. It
// shows what the layer costs above the raw node:http floor, and so the most any handler
// behind it could reach.
import { startHttpServer } from "../functions/serve/http-server.js";

const body = process.env.FLOOR_BODY ?? "{}";
const response = { status: 200, headers: { "content-type": "application/json" }, body };
const server = await startHttpServer(() => Promise.resolve(response), {
  host: "127.0.0.1",
  port: 0,
  maxBodyBytes: 1024 * 1024,
  requestTimeoutMs: 10_000,
});
process.stdout.write(`${JSON.stringify({ message: "serving", url: server.url })}\n`);
process.on("SIGTERM", () => void server.close(1_000).then(() => process.exit(0)));
