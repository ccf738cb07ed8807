import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CoreRequest, CoreResponse } from "../../../functions/serve/handler.js";
import { startOnDemand, type Handle } from "../../../functions/serve/start-on-demand.js";

const request: CoreRequest = { method: "GET", path: "/health", headers: {}, body: undefined };
const ok: Handle = () =>
  Promise.resolve<CoreResponse>({ status: 200, headers: {}, body: '{"status":"ok"}' });

describe("function start-up on demand", () => {
  it("answers 503 STRATA_E_NOT_READY while start-up fails, logs why, and retries on the next call", async () => {
    let attempts = 0;
    const logged: unknown[] = [];
    const getHandle = startOnDemand(
      () => {
        attempts++;
        return attempts < 3
          ? Promise.reject(new Error(`redis down ${attempts}`))
          : Promise.resolve(ok);
      },
      (_message, error) => logged.push(error),
    )((handle) => handle);
    for (const attempt of [1, 2]) {
      const response = await (await getHandle())(request);
      assert.equal(response.status, 503);
      assert.equal(response.headers["retry-after"], "1");
      const error = (JSON.parse(response.body) as { error: { code: string; message: string } })
        .error;
      assert.equal(error.code, "STRATA_E_NOT_READY");
      assert.doesNotMatch(error.message, /redis down/, "the cause stays in the log");
      assert.equal(attempts, attempt);
    }
    assert.deepEqual(
      logged.map((e) => (e as Error).message),
      ["redis down 1", "redis down 2"],
    );
    assert.equal((await (await getHandle())(request)).status, 200);
    assert.equal((await (await getHandle())(request)).status, 200);
    assert.equal(attempts, 3, "a started runtime is kept");
  });

  it("shares one start between the calls that arrive while it runs, failed or not", async () => {
    let attempts = 0;
    let fail: (error: Error) => void = () => undefined;
    const getHandle = startOnDemand(
      () => {
        attempts++;
        return attempts === 1
          ? new Promise<Handle>((_resolve, reject) => (fail = reject))
          : Promise.resolve(ok);
      },
      () => undefined,
    )((handle) => handle);
    const waiting = [getHandle(), getHandle(), getHandle()];
    fail(new Error("down"));
    const answers = await Promise.all(waiting.map(async (h) => (await h)(request)));
    assert.deepEqual(
      answers.map((a) => a.status),
      [503, 503, 503],
    );
    assert.equal(attempts, 1);
    const later = await Promise.all(
      [getHandle(), getHandle()].map(async (h) => (await h)(request)),
    );
    assert.deepEqual(
      later.map((a) => a.status),
      [200, 200],
    );
    assert.equal(attempts, 2);
  });

  it("shares one start between the handles picked from it (the feature API and the admin one)", async () => {
    let attempts = 0;
    const admin: Handle = () => Promise.resolve({ status: 204, headers: {}, body: "" });
    const runtime = startOnDemand(
      () => {
        attempts++;
        return Promise.resolve({ api: ok, admin });
      },
      () => undefined,
    );
    const api = runtime((r) => r.api);
    const health = runtime((r) => r.admin);
    const [a, b] = await Promise.all([api(), health()]);
    assert.equal((await a(request)).status, 200);
    assert.equal((await b(request)).status, 204);
    assert.equal(attempts, 1);
  });

  it("treats a start that throws at once (a bad configuration) like one that rejects", async () => {
    let attempts = 0;
    const getHandle = startOnDemand(
      () => {
        if (++attempts === 1) throw new Error("STRATA_REPO is not set");
        return Promise.resolve(ok);
      },
      () => undefined,
    )((handle) => handle);
    assert.equal((await (await getHandle())(request)).status, 503);
    assert.equal((await (await getHandle())(request)).status, 200);
  });
});
