// The serving container's entry point: node dist/functions/serve/main.js (or tsx in development),
// and what `strata serve` runs (runServe). Configuration comes from the environment; see
// docs/serving.md.
import { isStrataError } from "../../shared/errors.js";
import { errorField, log } from "../../shared/log.js";
import { isMainModule } from "../../shared/main-module.js";
import { registryStatus } from "../../shared/registry/index.js";
import { loadServeConfig } from "./config.js";
import { startHttpServer } from "./http-server.js";
import { createServeRuntime } from "./runtime.js";

/**
 * Starts the feature server and its admin port, and stops them on SIGTERM or SIGINT (then the
 * process exits). Resolves once both listen; throws (a StrataError for bad configuration) if
 * they cannot start.
 */
export async function runServe(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadServeConfig(env);
  if (!config.apiKeys) log("warn", "STRATA_AUTH=off: serving without authentication");
  const runtime = await createServeRuntime(config, (message, error) =>
    log("error", message, error === null ? {} : { error: errorField(error) }),
  );
  const serverOptions = {
    maxBodyBytes: config.limits.maxBodyBytes,
    requestTimeoutMs: Math.max(config.limits.requestTimeoutMs * 5, 10_000),
  };
  const server = await startHttpServer(runtime.handle, {
    host: config.host,
    port: config.port,
    ...serverOptions,
  });
  // Probes and Prometheus only: load balancers and Envoy forward the feature port alone.
  const admin = await startHttpServer(runtime.handleAdmin, { ...config.admin, ...serverOptions });
  log("info", "serving", {
    url: server.url,
    adminUrl: admin.url,
    project: runtime.registry.project,
    views: runtime.registry.views().map((v) => v.key),
    registry: registryStatus(runtime.live.snapshot()),
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    runtime.beginShutdown();
    // close() stops listening before it returns its promise: log after, so that "shutting
    // down" in the log means no new connection is accepted any more.
    const drained = server.close(config.shutdownGraceMs);
    log("info", "shutting down", { signal, graceMs: config.shutdownGraceMs });
    // The admin port stays up while requests drain: /ready answers 503, metrics stay scrapable.
    drained
      .then(() => admin.close(0))
      .then(() => runtime.close())
      .then(
        () => {
          log("info", "stopped");
          process.exit(0);
        },
        (error: unknown) => {
          log("error", "shutdown failed", { error: String(error) });
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

if (isMainModule(import.meta.url)) {
  runServe().catch((error: unknown) => {
    log(
      "error",
      "could not start",
      isStrataError(error) ? { code: error.code, error: error.message } : { error: String(error) },
    );
    process.exit(1);
  });
}
