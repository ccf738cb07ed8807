import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { OnlineStore } from "../../shared/online-store/index.js";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import { hashApiKey } from "../../functions/serve/auth.js";
import { connectRedis } from "../support/servers.js";
import { post, startTestServer, type TestServer } from "../support/serve.js";
import { testRepo, uniqueProject } from "../support/store.js";

// Whole seconds, a little in the past (the test views' maxAge is a minute): Feast prints seconds.
const EVENT_MS = Math.floor(Date.now() / 1000) * 1000 - 5_000;
const EVENT_ISO = new Date(EVENT_MS).toISOString().replace(".000Z", "Z");

describe("serving tier: Feast's /get-online-features over real Redis", () => {
  const repo = testRepo(uniqueProject("serve"));
  // A second service, for keys scoped to the first one.
  repo.services = [...(repo.services ?? []), { name: "model_b", features: ["stats@2:rate"] }];
  const registry = new FeatureRegistry(repo);
  const limitedKey = "limited-key-0123456789";
  const serviceKey = "service-key-0123456789";
  const ghostServiceKey = "ghost-service-key-0123456789";
  const projectKey = "project-key-0123456789";
  // Beyond 2^53: a number cannot carry it, a decimal string can.
  const bigDriver = 9007199254740993n;
  let server: TestServer;

  before(async () => {
    const client = connectRedis("standalone");
    const writer = await OnlineStore.open({ client, registry, hotCache: false });
    const clock = new HybridLogicalClock();
    const version = () => ({
      eventTsMs: EVENT_MS,
      epoch: 0,
      hlc: clock.now(),
      originRegion: "us-east-1",
    });
    await writer.write([
      {
        view: "stats@1",
        entity: { driver_id: 1001 },
        values: { rate: 0.5, trips: 12, label: "a" },
        version: version(),
      },
      {
        view: "stats@1",
        entity: { driver_id: 1002 },
        values: { rate: null, trips: 7, label: "b" },
        version: version(),
      },
      {
        view: "stats@2",
        entity: { driver_id: 1001 },
        values: { rate: 0.75, trips: 13, label: "a2", tags: ["x"] },
        version: version(),
      },
      {
        view: "stats@1",
        entity: { driver_id: bigDriver },
        values: { rate: 0.25, trips: 3, label: "big" },
        version: version(),
      },
    ]);
    await writer.close();
    client.disconnect();
    server = await startTestServer(registry, {
      limits: { maxEntities: 50, maxBodyBytes: 4_096 },
      extraKeys: [
        { id: "other-project", sha256: hashApiKey(limitedKey), projects: ["someone_else"] },
        { id: "service-only", sha256: hashApiKey(serviceKey), featureServices: ["model_a"] },
        {
          id: "ghost-service",
          sha256: hashApiKey(ghostServiceKey),
          featureServices: ["model_a", "ghost_service"],
        },
        { id: "this-project", sha256: hashApiKey(projectKey), projects: [registry.project] },
      ],
    });
  });
  after(() => server.close());

  it("answers Feast's documented request shape, as curl -d sends it, column-major", async () => {
    // Feast's docs use `curl -X POST ... -d '{...}'`: no JSON content type, a plain JSON body.
    const { status, json } = await post(
      server.url,
      { features: ["stats@1:rate", "stats@1:trips"], entities: { driver_id: [1001, 1002, 3] } },
      { key: server.key, contentType: "application/x-www-form-urlencoded" },
    );
    assert.equal(status, 200);
    assert.deepEqual(json, {
      metadata: { feature_names: ["driver_id", "rate", "trips"] },
      results: [
        {
          values: [1001, 1002, 3],
          statuses: ["PRESENT", "PRESENT", "PRESENT"],
          event_timestamps: [
            "1970-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
          ],
        },
        {
          values: [0.5, null, null],
          statuses: ["PRESENT", "NULL_VALUE", "NOT_FOUND"],
          event_timestamps: [EVENT_ISO, EVENT_ISO, "1970-01-01T00:00:00Z"],
        },
        {
          values: [12, 7, null],
          statuses: ["PRESENT", "PRESENT", "NOT_FOUND"],
          event_timestamps: [EVENT_ISO, EVENT_ISO, "1970-01-01T00:00:00Z"],
        },
      ],
    });
  });

  it("serves a feature service, and full feature names with the pinned major", async () => {
    const service = await post(
      server.url,
      { feature_service: "model_a", entities: { driver_id: [1001] } },
      { key: server.key },
    );
    assert.equal(service.status, 200);
    assert.deepEqual((service.json.metadata as { feature_names: string[] }).feature_names, [
      "driver_id",
      "rate",
      "trips",
    ]);
    const full = await post(
      server.url,
      {
        features: ["stats@1:rate", "stats:rate", "stats:tags"],
        entities: { driver_id: [1001] },
        full_feature_names: true,
      },
      { key: server.key },
    );
    assert.equal(full.status, 200);
    assert.deepEqual((full.json.metadata as { feature_names: string[] }).feature_names, [
      "driver_id",
      "stats@1__rate",
      "stats__rate",
      "stats__tags",
    ]);
    assert.deepEqual(
      (full.json.results as { values: unknown[] }[]).map((r) => r.values[0]),
      [1001, 0.5, 0.75, ["x"]],
    );
  });

  const badInputs: [
    string,
    () => Promise<{ status: number; json: Record<string, unknown>; text: string }>,
    number,
    string,
  ][] = [
    [
      "malformed JSON",
      () => post(server.url, null, { key: server.key, raw: '{"features": [' }),
      400,
      "STRATA_E_MALFORMED_JSON",
    ],
    [
      "an empty body",
      () => post(server.url, null, { key: server.key, raw: "" }),
      400,
      "STRATA_E_EMPTY_BODY",
    ],
    [
      "entity columns of different lengths",
      () =>
        post(
          server.url,
          { features: ["rider_profile:score"], entities: { rider_id: ["a", "b"], city: ["x"] } },
          { key: server.key },
        ),
      400,
      "STRATA_E_ENTITY_LENGTH_MISMATCH",
    ],
    [
      "a missing join key",
      () =>
        post(
          server.url,
          { features: ["rider_profile:score"], entities: { rider_id: ["a"] } },
          { key: server.key },
        ),
      400,
      "STRATA_E_MISSING_JOIN_KEY",
    ],
    [
      "a join key of the wrong type",
      () =>
        post(
          server.url,
          { features: ["stats@1:rate"], entities: { driver_id: ["10.5"] } },
          { key: server.key },
        ),
      400,
      "STRATA_E_ENTITY_KEY_TYPE",
    ],
    [
      "too many entities",
      () =>
        post(
          server.url,
          {
            features: ["stats@1:rate"],
            entities: { driver_id: Array.from({ length: 51 }, (_, i) => i) },
          },
          { key: server.key },
        ),
      400,
      "STRATA_E_TOO_MANY_ENTITIES",
    ],
    [
      "a feature that does not exist",
      () =>
        post(
          server.url,
          { features: ["stats@1:nope"], entities: { driver_id: [1] } },
          { key: server.key },
        ),
      400,
      "STRATA_E_UNKNOWN_FEATURE",
    ],
    [
      "a feature service that does not exist",
      () =>
        post(
          server.url,
          { feature_service: "ghost", entities: { driver_id: [1] } },
          { key: server.key },
        ),
      404,
      "STRATA_E_UNKNOWN_FEATURE_SERVICE",
    ],
    [
      "no API key",
      () => post(server.url, { features: ["stats@1:rate"], entities: { driver_id: [1] } }),
      401,
      "STRATA_E_UNAUTHENTICATED",
    ],
    [
      "a wrong API key",
      () =>
        post(
          server.url,
          { features: ["stats@1:rate"], entities: { driver_id: [1] } },
          { key: "not-a-real-key" },
        ),
      401,
      "STRATA_E_UNAUTHENTICATED",
    ],
    [
      "a key without access to the project",
      () =>
        post(
          server.url,
          { features: ["stats@1:rate"], entities: { driver_id: [1] } },
          { key: limitedKey },
        ),
      403,
      "STRATA_E_FORBIDDEN",
    ],
    [
      "a service-scoped key asking for raw features",
      () =>
        post(
          server.url,
          { features: ["stats@1:rate"], entities: { driver_id: [1] } },
          { key: serviceKey },
        ),
      403,
      "STRATA_E_FORBIDDEN",
    ],
    [
      "an oversized body",
      () =>
        post(server.url, null, {
          key: server.key,
          raw: JSON.stringify({
            features: ["stats@1:rate"],
            entities: { driver_id: [1] },
            pad: "x".repeat(8_000),
          }),
        }),
      413,
      "STRATA_E_BODY_TOO_LARGE",
    ],
    [
      "a non-JSON content type",
      () =>
        post(
          server.url,
          { features: ["stats@1:rate"], entities: { driver_id: [1] } },
          { key: server.key, contentType: "text/csv" },
        ),
      415,
      "STRATA_E_UNSUPPORTED_MEDIA_TYPE",
    ],
  ];
  for (const [what, send, status, code] of badInputs) {
    it(`answers ${what} with ${status} ${code}, no internals, and keeps serving`, async () => {
      const response = await send();
      assert.equal(response.status, status, response.text);
      const error = response.json.error as { code: string; message: string };
      assert.equal(error.code, code);
      assert.ok(error.message.length > 0);
      assert.doesNotMatch(response.text, /\n\s+at |node_modules|\.ts:\d+/, "no stack trace");
      const after = await post(
        server.url,
        { features: ["stats@1:trips"], entities: { driver_id: [1001] } },
        { key: server.key },
      );
      assert.equal(after.status, 200);
    });
  }

  type Sent = { status: number; json: Record<string, unknown>; text: string };
  const errorOf = (sent: Sent) =>
    sent.json.error as { code: string; message: string; details: Record<string, unknown> };

  it("answers a key of another project the same 403 whatever it asks for, before reading the request", async () => {
    const asks: unknown[] = [
      { feature_service: "model_a", entities: { driver_id: [1] } },
      { feature_service: "ghost", entities: { driver_id: [1] } },
      { features: ["stats@1:rate"], entities: { driver_id: [1] } },
      { features: ["stats@1:nope", "ghost_view:x"], entities: { driver_id: [1] } },
      { features: ["stats@1:rate"], entities: { rider_id: ["a"] } },
    ];
    const answers = await Promise.all(
      asks.map((body) => post(server.url, body, { key: limitedKey })),
    );
    answers.push(await post(server.url, null, { key: limitedKey, raw: '{"features": [' }));
    for (const answer of answers) {
      assert.equal(answer.status, 403, answer.text);
      assert.equal(answer.text, answers[0]!.text);
    }
    assert.equal(errorOf(answers[0]!).code, "STRATA_E_FORBIDDEN");
  });

  it("answers a service-scoped key the same 403 for names outside its scope, whether or not they exist", async () => {
    const ask = (body: unknown) => post(server.url, body, { key: serviceKey });
    const existing = await ask({ feature_service: "model_b", entities: { driver_id: [1] } });
    const missing = await ask({ feature_service: "ghost", entities: { driver_id: [1] } });
    for (const answer of [existing, missing]) {
      assert.equal(answer.status, 403, answer.text);
      assert.equal(errorOf(answer).code, "STRATA_E_FORBIDDEN");
      assert.doesNotMatch(answer.text, /known|model_a/);
    }
    // The same answer but for the name it was asked about.
    assert.equal(existing.text.replaceAll("model_b", "X"), missing.text.replaceAll("ghost", "X"));

    const rawExisting = await ask({ features: ["stats@1:rate"], entities: { driver_id: [1] } });
    const rawMissing = await ask({ features: ["ghost_view:nope"], entities: { driver_id: [1] } });
    assert.equal(rawExisting.status, 403);
    assert.equal(rawExisting.text, rawMissing.text);
  });

  it("lists known names only to keys that may read the whole project", async () => {
    const ghost = { feature_service: "ghost_service", entities: { driver_id: [1] } };
    // Scoped to services: its own service missing is a 404, without the project's names.
    const scoped = await post(server.url, ghost, { key: ghostServiceKey });
    assert.equal(scoped.status, 404, scoped.text);
    assert.equal(errorOf(scoped).code, "STRATA_E_UNKNOWN_FEATURE_SERVICE");
    assert.equal(errorOf(scoped).details.known, undefined);
    assert.doesNotMatch(scoped.text, /model_a|model_b/);

    // Keys without a service limit could ask for any name anyway: they get the lists.
    for (const key of [server.key, projectKey]) {
      const whole = await post(server.url, ghost, { key });
      assert.equal(whole.status, 404, whole.text);
      assert.deepEqual(errorOf(whole).details.known, ["model_a", "model_b"]);
      const feature = await post(
        server.url,
        { features: ["stats@1:nope"], entities: { driver_id: [1] } },
        { key },
      );
      assert.equal(feature.status, 400, feature.text);
      assert.deepEqual(errorOf(feature).details.known, ["rate", "trips", "label"]);
    }
  });

  it("reads an int64 join key sent as a decimal string as the row of that number, beyond 2^53 too", async () => {
    const read = (driverIds: unknown[]) =>
      post(
        server.url,
        { features: ["stats@1:label"], entities: { driver_id: driverIds } },
        { key: server.key },
      );
    const asNumbers = await read([1001, 1002]);
    const asStrings = await read(["1001", "1002", bigDriver.toString(), "-0"]);
    assert.equal(asStrings.status, 200, asStrings.text);
    const labels = (sent: Sent) => (sent.json.results as { values: unknown[] }[])[1]!.values;
    assert.deepEqual(labels(asStrings).slice(0, 2), labels(asNumbers));
    assert.deepEqual(labels(asStrings), ["a", "b", "big", null]);

    for (const bad of ["01001", " 1001", "1e3", "+1", "1001.0", "9223372036854775808", ""]) {
      const refused = await read([bad]);
      assert.equal(refused.status, 400, `${JSON.stringify(bad)}: ${refused.text}`);
      assert.equal(errorOf(refused).code, "STRATA_E_ENTITY_KEY_TYPE");
    }
  });

  it("lets a service-scoped key read its service", async () => {
    const response = await post(
      server.url,
      { feature_service: "model_a", entities: { driver_id: [1001] } },
      { key: serviceKey },
    );
    assert.equal(response.status, 200);
  });

  it("answers health, readiness and metrics; unknown paths and methods get their codes", async () => {
    assert.equal((await fetch(`${server.adminUrl}/health`)).status, 200);
    const ready = await fetch(`${server.adminUrl}/ready`);
    assert.equal(ready.status, 200);
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    for (const name of [
      "strata_http_request_duration_seconds_bucket",
      'strata_http_request_duration_seconds_count{route="/get-online-features",method="POST",status="200"}',
      'strata_http_request_duration_seconds_count{route="/get-online-features",method="POST",status="401"}',
      "strata_http_requests_in_flight",
      "strata_hot_cache_hits",
      "strata_hot_cache_misses",
      "strata_redis_errors_total",
    ]) {
      assert.ok(metrics.includes(name), `metrics lack ${name}`);
    }
    // Read at scrape time: the scrape itself is the one request in flight.
    assert.match(metrics, /^strata_http_requests_in_flight 1$/m);
    const notFound = await fetch(`${server.url}/nope`);
    assert.equal(notFound.status, 404);
    assert.equal(
      ((await notFound.json()) as { error: { code: string } }).error.code,
      "STRATA_E_ROUTE_NOT_FOUND",
    );
    const wrongMethod = await fetch(`${server.url}/get-online-features`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "POST");
  });

  it("keeps connections alive between requests", async () => {
    const response = await fetch(`${server.url}/get-online-features`);
    assert.equal(response.headers.get("connection"), "keep-alive");
  });
});
