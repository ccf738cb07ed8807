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

  const finished = () => {
    if (--inFlight === 0 && drained) drained();
  };
  const server = http.createServer(
    {
      keepAlive: true,
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: Math.min(options.requestTimeoutMs, 60_000),
    },
    (req, res) => {
      inFlight++;
      if (closing) {
        res.shouldKeepAlive = false;
        send(
          res,
          errorBody(new StrataError("STRATA_E_SHUTTING_DOWN", "the server is shutting down", {})),
        );
        finished();
        return;
      }
      // Callbacks, not promises, until the handler: this runs for every request.
      readBody(req, options.maxBodyBytes, (error, body) => {
        if (error) {
          // An oversized body: answer, stop reading, and close the connection.
          res.shouldKeepAlive = false;
          send(res, errorBody(error));
          req.resume();
          finished();
          return;
        }
        handle({
          method: req.method ?? "GET",
          path: pathOf(req.url),
          headers: req.headers as CoreRequest["headers"],
          body,
        }).then(
          (response) => {
            send(res, response);
            finished();
          },
          () => {
            send(res, errorBody(new StrataError("STRATA_E_INTERNAL", "internal error", {})));
            finished();
          },
        );
      });
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

function readBody(
  req: http.IncomingMessage,
  limit: number,
  done: (error: StrataError | undefined, body: Buffer | undefined) => void,
): void {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) return done(tooLarge(limit), undefined);
  if (req.method === "GET" || req.method === "HEAD") return done(undefined, undefined);
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on("data", (chunk: Buffer) => {
    if (failed) return;
    size += chunk.length;
    if (size > limit) {
      failed = true;
      done(tooLarge(limit), undefined);
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (!failed) done(undefined, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  });
  req.on("error", () => {
    // The client went away mid-body: the answer goes nowhere, but the request is over.
    if (failed) return;
    failed = true;
    done(new StrataError("STRATA_E_BAD_REQUEST", "the request body was cut off", {}), undefined);
  });
}

function errorBody(error: StrataError): CoreResponse {
  return {
    status: error.status,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ error: error.toJSON() }),
  };
}

function tooLarge(limit: number): StrataError {
  return new StrataError("STRATA_E_BODY_TOO_LARGE", `the body is larger than ${limit} bytes`, {
    limit,
  });
}

function send(res: http.ServerResponse, response: CoreResponse): void {
  if (res.headersSent) return;
  // One flat Buffer: cheaper than handing Node the response string (a rope of many pieces) to
  // flatten and encode inside the socket write, on the path every response takes.
  const body = Buffer.from(response.body);
  res.writeHead(response.status, { ...response.headers, "content-length": body.length });
  res.end(body);
}

function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}
