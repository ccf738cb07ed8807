import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { StrataError } from "../../shared/errors.js";
import { errorField, log } from "../../shared/log.js";
import type { CoreRequest, CoreResponse } from "./handler.js";

export interface HttpServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  /** Slow clients: the whole request must arrive within this. */
  requestTimeoutMs: number;
  /** Where 5xx answers the server gives itself are reported (default: a JSON log line). */
  logError?: (message: string, error: unknown) => void;
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
  const logError =
    options.logError ??
    ((message: string, error: unknown) =>
      log("error", message, error === null ? {} : { error: errorField(error) }));
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
        logError("refused a request: the server is shutting down", null);
        send(
          res,
          errorBody(new StrataError("STRATA_E_SHUTTING_DOWN", "the server is shutting down", {})),
          logError,
        );
        finished();
        return;
      }
      // Callbacks, not promises, until the handler: this runs for every request.
      readBody(req, options.maxBodyBytes, (error, body) => {
        if (error) {
          // An oversized body: answer, stop reading, and close the connection.
          res.shouldKeepAlive = false;
          send(res, errorBody(error), logError);
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
            send(res, response, logError);
            finished();
          },
          (error: unknown) => {
            // The core answers every error itself; reaching this is a bug, and logged as one.
            logError("the serving core failed to answer", error);
            send(
              res,
              errorBody(new StrataError("STRATA_E_INTERNAL", "internal error", {})),
              logError,
            );
            finished();
          },
        );
      });
    },
  );
  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeout (60 s)
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) =>
    answerClientError(error, socket, options.requestTimeoutMs),
  );

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

function send(
  res: http.ServerResponse,
  response: CoreResponse,
  logError: (message: string, error: unknown) => void,
): void {
  if (res.headersSent) return;
  try {
    // One flat Buffer: cheaper than handing Node the response string (a rope of many pieces) to
    // flatten and encode inside the socket write, on the path every response takes.
    const body = Buffer.from(response.body);
    res.writeHead(response.status, { ...response.headers, "content-length": body.length });
    res.end(body);
  } catch (error) {
    // A header Node refuses, say: the client gets a closed connection, the log the reason.
    logError("could not send a response", error);
    res.destroy();
  }
}

/**
 * A request Node's parser refused (bad framing, an unknown method, oversized headers, a request
 * that did not arrive in time) gets the JSON error every other error gets, where the socket can
 * still take it, and the connection is closed: after a parse error the stream has no request
 * boundary left to resume at. Our responses are written whole (send), so an answer never lands
 * in the middle of another.
 */
function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Duplex,
  requestTimeoutMs: number,
): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, body } = errorBody(clientError(error, requestTimeoutMs));
  const payload = Buffer.from(body);
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${payload.length}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

function clientError(error: NodeJS.ErrnoException, requestTimeoutMs: number): StrataError {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return new StrataError(
        "STRATA_E_HEADERS_TOO_LARGE",
        `the request's headers are larger than ${http.maxHeaderSize} bytes`,
        { limit: http.maxHeaderSize },
      );
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new StrataError(
        "STRATA_E_REQUEST_TIMEOUT",
        `the request did not arrive in full within ${requestTimeoutMs} ms`,
        { timeoutMs: requestTimeoutMs },
      );
    default: {
      // llhttp's reason names the fault ("Invalid method encountered"); its code is stable.
      const reason = (error as { reason?: unknown }).reason;
      return new StrataError(
        "STRATA_E_BAD_HTTP",
        `the request is not valid HTTP/1.1: ${typeof reason === "string" ? reason : error.message}`,
        { parser: error.code ?? null },
      );
    }
  }
}

function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}
