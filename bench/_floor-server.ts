// The serve benchmark's floor: a raw node:http server that reads the request body, like the
// serving tier does, and answers with a canned body (FLOOR_BODY) of the real response's size.
// With FLOOR_SPIN_US it first keeps the CPU busy that long per request: the floor as if it
// had a handler of that cost (the floor_spin scenario).
import http from "node:http";
import type { AddressInfo } from "node:net";

const body = process.env.FLOOR_BODY ?? "{}";
const spinMs = Number(process.env.FLOOR_SPIN_US ?? 0) / 1000;
const server = http.createServer({ keepAlive: true }, (req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    if (spinMs > 0) {
      const until = performance.now() + spinMs;
      while (performance.now() < until); // busy on purpose: CPU, not waiting
    }
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(
    `${JSON.stringify({ message: "serving", url: `http://127.0.0.1:${port}` })}\n`,
  );
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
