import http from "node:http";
import type { AddressInfo } from "node:net";
import { StrataError } from "../../shared/errors.js";
import type { CoreRequest, CoreResponse } from "./handler.js";

export interface HttpServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  /** Slow clients: the whole request must arrive within this. */
  requestTimeoutMs: number;
}

export interface RunningServer {
  server: http.Server;
  url: string;
  /**
   * Graceful stop: no new connections, idle keep-alive connections closed, in-flight requests
   * given `graceMs` to finish (new requests on open connections get 503 meanwhile), then
   * every connection closed.
   */
  close(graceMs: number): Promise<void>;
}

/**
 * The latency-critical server: plain node:http (a framework's routing and hooks cost more
 * than this tier's whole budget), keep-alive on, bodies read with a hard size limit.
 */
export async function startHttpServer(
  handle: (request: CoreRequest) => Promise<CoreResponse>,
  options: HttpServerOptions,
): Promise<RunningServer> {
  let closing = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  const server = http.createServer(
    {
      keepAlive: true,
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: Math.min(options.requestTimeoutMs, 60_000),
    },
    (req, res) => {
      inFlight++;
      res.once("close", () => {
        if (--inFlight === 0 && drained) drained();
      });
      if (closing) {
        res.shouldKeepAlive = false;
        send(res, {
          status: 503,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            error: new StrataError(
              "STRATA_E_SHUTTING_DOWN",
              "the server is shutting down",
              {},
            ).toJSON(),
          }),
        });
        return;
      }
      readBody(req, options.maxBodyBytes).then(
        (body) =>
          handle({
            method: req.method ?? "GET",
            path: pathOf(req.url),
            headers: req.headers as CoreRequest["headers"],
            body,
          }).then(
            (response) => send(res, response),
            () =>
              send(res, {
                status: 500,
                headers: {},
                body: '{"error":{"code":"STRATA_E_INTERNAL","message":"internal error","details":{}}}',
              }),
          ),
        (error: StrataError) => {
          // Stop reading an oversized body: answer, then close the connection.
          res.shouldKeepAlive = false;
          send(res, {
            status: error.status,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ error: error.toJSON() }),
          });
          req.resume();
        },
      );
    },
  );
  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeout (60 s)

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    server,
    url: `http://${host}:${address.port}`,
    close: async (graceMs) => {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => (drained = resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  if (req.method === "GET" || req.method === "HEAD") return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function tooLarge(limit: number): StrataError {
  return new StrataError("STRATA_E_BODY_TOO_LARGE", `the body is larger than ${limit} bytes`, {
    limit,
  });
}

function send(res: http.ServerResponse, response: CoreResponse): void {
  if (res.headersSent) return;
  res.writeHead(response.status, {
    ...response.headers,
    "content-length": Buffer.byteLength(response.body),
  });
  res.end(response.body);
}

function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}
