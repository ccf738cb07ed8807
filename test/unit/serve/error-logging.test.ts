// The serving core's error contract, without servers: every 5xx it answers is logged once with
// its cause, and no thrown value, however hostile, escapes it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_LIMITS } from "../../../functions/serve/config.js";
import { createServeHandler, type ServeDeps } from "../../../functions/serve/handler.js";
import { ServeMetrics } from "../../../functions/serve/metrics.js";
import { StrataError } from "../../../shared/errors.js";
import type { OnlineStore } from "../../../shared/online-store/index.js";
import { FeatureRegistry, LiveRegistry } from "../../../shared/registry/index.js";
import { testRepo } from "../../support/store.js";

function handlerThrowing(thrown: unknown) {
  const logged: { message: string; error: unknown }[] = [];
  const store = {
    read: async () => {
      await Promise.resolve();
      throw thrown;
    },
    stats: () => ({}),
  } as unknown as OnlineStore;
  const deps: ServeDeps = {
    store,
    registry: LiveRegistry.fixed(new FeatureRegistry(testRepo("unit"))),
    verifier: null,
    limits: DEFAULT_LIMITS,
    metrics: new ServeMetrics(() => store.stats()),
    isReady: () => Promise.resolve(true),
    isShuttingDown: () => false,
    logError: (message, error) => logged.push({ message, error }),
  };
  const handle = createServeHandler(deps);
  const read = () =>
    handle({
      method: "POST",
      path: "/get-online-features",
      headers: { "content-type": "application/json" },
      body: '{"features": ["stats:rate"], "entities": {"driver_id": [1]}}',
    });
  return { handle, read, logged };
}

describe("serving core: 5xx answers are logged", () => {
  const deep: Record<string, unknown> = {};
  let cursor = deep;
  for (let i = 0; i < 10_000; i++) cursor = cursor.a = {};
  const cases: [string, unknown, number][] = [
    ["a failed Redis script", new StrataError("STRATA_E_SCRIPT_FAILED", "script failed", {}), 500],
    ["an unexpected error", new TypeError("x is undefined"), 500],
    [
      "an error whose details hold 10,000 nested objects",
      new StrataError("STRATA_E_SCRIPT_FAILED", "script failed", { deep }),
      500,
    ],
    ["a thrown non-error", { toString: () => "odd" }, 500],
  ];
  for (const [what, thrown, status] of cases) {
    it(`answers ${what} with ${status} JSON and logs it`, async () => {
      const { read, logged } = handlerThrowing(thrown);
      const response = await read();
      assert.equal(response.status, status);
      assert.match(
        (JSON.parse(response.body) as { error: { code: string } }).error.code,
        /^STRATA_E_/,
      );
      assert.equal(logged.length, 1, JSON.stringify(logged.map((l) => l.message)));
    });
  }

  it("logs a push refused because no changelog is configured (503)", async () => {
    const { handle, logged } = handlerThrowing(null);
    const response = await handle({
      method: "POST",
      path: "/push",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(response.status, 503);
    assert.equal(logged.length, 1);
  });

  it("does not log client errors", async () => {
    const { handle, logged } = handlerThrowing(null);
    const response = await handle({
      method: "POST",
      path: "/get-online-features",
      headers: {},
      body: '{"features": [1]}',
    });
    assert.equal(response.status, 400);
    assert.equal(logged.length, 0);
  });
});
