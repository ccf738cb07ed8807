import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { DEFAULT_LIMITS } from "../../../functions/serve/config.js";
import { feastErrorResponse, isFeastSdkRequest } from "../../../functions/serve/feast-errors.js";
import { floatJson } from "../../../functions/serve/feast-response.js";
import { parseFeastWriteRequest } from "../../../functions/serve/feast-write-request.js";
import type { CoreRequest } from "../../../functions/serve/handler.js";
import { parseExactJson } from "../../../shared/exact-json.js";
import type { PushContext } from "../../../functions/serve/push-request.js";
import { isStrataError, StrataError } from "../../../shared/errors.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";

const registry = new FeatureRegistry({
  project: "feast_shapes",
  entities: [{ name: "driver", joinKeys: { driver_id: "int64" } }],
  views: [
    {
      name: "stats",
      version: "1.0.0",
      entities: ["driver"],
      features: { rate: "float64", seen: "unix_timestamp", seen_all: "unix_timestamp[]" },
      maxAgeMs: 60_000,
    },
  ],
  pushSources: [{ name: "stats_push", views: ["stats"] }],
});
let counter = 0;
const context: PushContext = {
  registry,
  limits: DEFAULT_LIMITS,
  region: "eu-west-1",
  hlc: () => ({ wallMs: 1_800_000_000_000, counter: counter++ }),
};

function withNumbers(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(withNumbers);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withNumbers(v)]));
  }
  return value;
}

const request = (path: string, body: string): CoreRequest => ({
  method: "POST",
  path,
  headers: {},
  body: Buffer.from(body),
});

describe("Feast's SDK: request and response shapes", () => {
  it("writes every float with a fraction or an exponent, the same number", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = floatJson(String(value), 1);
        assert.match(text, /[.eE]/);
        assert.ok(Number(text) === value, text);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true })), (values) => {
        const text = floatJson(`[${values.join(",")}]`, 2);
        const items = text.slice(1, -1) === "" ? [] : text.slice(1, -1).split(",");
        assert.ok(
          items.every((item) => /[.eE]/.test(item)),
          text,
        );
        assert.deepEqual(
          JSON.parse(text),
          values.map((v) => (Object.is(v, -0) ? 0 : v)),
        );
      }),
    );
    assert.equal(floatJson("null", 1), "null");
    assert.equal(floatJson("null", 2), "null");
  });

  it("parses integers exactly beyond 2^53, and everything else as JSON.parse does", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (value) => {
        const parsed = (parseExactJson(`{"v":[${value}]}`) as { v: unknown[] }).v[0];
        if (Number.isSafeInteger(Number(value))) assert.equal(parsed, Number(value));
        else assert.equal(parsed, value);
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n }), (value, big) => {
        // The same document through the exact parser (a long digit run forces it) and JSON.parse:
        // equal but for unsafe integers, exact (bigints) from the one, rounded from the other.
        const text = JSON.stringify({ value, pad: `${big}` });
        assert.deepEqual(withNumbers(parseExactJson(text)), JSON.parse(text));
      }),
    );
    assert.throws(() => parseExactJson('{"a": 12345678901234567'), SyntaxError);
  });

  it("tells the SDK's requests from others, from the raw body", () => {
    assert.ok(isFeastSdkRequest(request("/write-to-online-store", "{")));
    assert.ok(
      isFeastSdkRequest(
        request("/get-online-features", '{"include_feature_view_version_metadata": false}'),
      ),
    );
    assert.ok(!isFeastSdkRequest(request("/get-online-features", '{"features": []}')));
    assert.ok(!isFeastSdkRequest(request("/push", '"include_feature_view_version_metadata"')));
  });

  it("answers the SDK a Feast error detail as a JSON string, with Feast's status", () => {
    const sdk = request("/get-online-features", '{"include_feature_view_version_metadata":1}');
    const cases = [
      ["STRATA_E_UNKNOWN_VIEW", sdk, "FeatureViewNotFoundException", 404],
      [
        "STRATA_E_UNKNOWN_VIEW",
        request("/write-to-online-store", "{}"),
        "FeastObjectNotFoundException",
        404,
      ],
      ["STRATA_E_UNKNOWN_FEATURE_SERVICE", sdk, "FeatureServiceNotFoundException", 404],
      ["STRATA_E_FORBIDDEN", sdk, "FeastPermissionError", 403],
    ] as const;
    for (const [code, req, className, status] of cases) {
      const response = feastErrorResponse(new StrataError(code, "no such thing", {}), req)!;
      assert.equal(response.status, status);
      const detail = JSON.parse(JSON.parse(response.body) as string) as Record<string, string>;
      assert.deepEqual(detail, {
        module: "feast.errors",
        class: className,
        message: `no such thing (${code})`,
      });
    }
    const unknownFeature = new StrataError("STRATA_E_UNKNOWN_FEATURE", "nope", {});
    assert.equal(feastErrorResponse(unknownFeature, sdk), undefined);
    const strataClient = request("/get-online-features", '{"features": ["x:y"]}');
    assert.equal(
      feastErrorResponse(new StrataError("STRATA_E_UNKNOWN_VIEW", "x", {}), strataClient),
      undefined,
    );
  });

  it("parses Feast's write body: the view's rows, seconds to milliseconds, wait applied by default", () => {
    const parsed = parseFeastWriteRequest(
      {
        feature_view_name: "stats",
        df: {
          driver_id: [1, 9007199254740993n],
          rate: [1.5, null],
          seen: [1_767_225_600, null],
          seen_all: [[1_767_225_600], []],
          event_timestamp: ["2026-11-26T10:00:00.123456", "2026-11-26T10:00:00"],
          created: [null, null],
        },
        allow_registry_cache: false,
        transform_on_write: true,
      },
      context,
    );
    assert.equal(parsed.wait, "applied");
    assert.deepEqual(
      parsed.rows.map((row) => [row.view, row.entity, row.values, row.version.eventTsMs]),
      [
        [
          "stats@1",
          { driver_id: 1 },
          { rate: 1.5, seen: 1_767_225_600_000, seen_all: [1_767_225_600_000] },
          Date.UTC(2026, 10, 26, 10, 0, 0, 123),
        ],
        [
          "stats@1",
          { driver_id: 9007199254740993n },
          { rate: null, seen: null, seen_all: [] },
          Date.UTC(2026, 10, 26, 10),
        ],
      ],
    );
    const wait = parseFeastWriteRequest(
      {
        feature_view_name: "stats@1",
        df: { driver_id: [1], rate: [1], seen: [1], seen_all: [null], event_timestamp: [0] },
        wait: "enqueued",
      },
      context,
    );
    assert.equal(wait.wait, "enqueued");
  });

  it("refuses what Feast's write body cannot be: a push source's name, replicated waits, bad flags", () => {
    const refused = (body: Record<string, unknown>, code: string) =>
      assert.throws(
        () => parseFeastWriteRequest({ df: { driver_id: [1] }, ...body }, context),
        (e: unknown) => isStrataError(e) && e.code === code,
      );
    refused({ feature_view_name: "stats_push" }, "STRATA_E_UNKNOWN_VIEW");
    refused({ feature_view_name: "stats", wait: "replicated" }, "STRATA_E_BAD_REQUEST");
    refused({ feature_view_name: "stats", allow_registry_cache: "yes" }, "STRATA_E_BAD_REQUEST");
    refused({ push_source_name: "stats" }, "STRATA_E_BAD_REQUEST");
  });
});
