// The serve benchmark's floor: a raw node:http server that reads the request body, like the
// serving tier does, and answers with a canned body (FLOOR_BODY) of the real response's size.
// With FLOOR_SPIN_US it first keeps the CPU busy that long per request: the floor as if it
// had a handler of that cost (the floor_spin scenario).
// With FLOOR_REDIS_URL it first reads the hash the serving tier reads (FLOOR_REDIS_KEY, fields
// FLOOR_REDIS_FIELDS as a JSON array) with one raw ioredis HMGET: the floor of the redis_read
// scenario, node:http and ioredis with no Strata code between them (floor_redis).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";

const body = process.env.FLOOR_BODY ?? "{}";
const spinMs = Number(process.env.FLOOR_SPIN_US ?? 0) / 1000;
const redis = process.env.FLOOR_REDIS_URL ? new Redis(process.env.FLOOR_REDIS_URL) : undefined;
const redisKey = process.env.FLOOR_REDIS_KEY ?? "";
const redisFields = JSON.parse(process.env.FLOOR_REDIS_FIELDS ?? "[]") as string[];

const server = http.createServer({ keepAlive: true }, (req, res) => {
  const answer = () => {
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  };
  req.on("data", () => {});
  req.on("end", () => {
    if (spinMs > 0) {
      const until = performance.now() + spinMs;
      while (performance.now() < until); // busy on purpose: CPU, not waiting
    }
    if (!redis) return answer();
    redis.hmgetBuffer(redisKey, ...redisFields).then(answer, (error: Error) => {
      res.writeHead(503).end(error.message);
    });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(
    `${JSON.stringify({ message: "serving", url: `http://127.0.0.1:${port}` })}\n`,
  );
});
process.on("SIGTERM", () => {
  redis?.disconnect();
  server.close(() => process.exit(0));
});
