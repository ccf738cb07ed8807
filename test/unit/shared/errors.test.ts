import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ERROR_CODES, show, StrataError } from "../../../shared/errors.js";
import { errorField } from "../../../shared/log.js";

const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
const documented = new Map(
  [...doc.matchAll(/^\|\s*`(STRATA_E_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => [
    m[1]!,
    Number(m[2]),
  ]),
);

describe("error registry", () => {
  it("documents every code with its HTTP status in docs/errors.md, and nothing else", () => {
    const registered = new Map(
      Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]),
    );
    assert.deepEqual([...documented].sort(), [...registered].sort());
  });

  it("serialises to code, message and details, never a stack", () => {
    const error = new StrataError("STRATA_E_UNKNOWN_FEATURE", 'feature "x" does not exist', {
      feature: "x",
    });
    assert.equal(error.status, 400);
    assert.deepEqual(JSON.parse(JSON.stringify(error)), {
      code: "STRATA_E_UNKNOWN_FEATURE",
      message: 'feature "x" does not exist',
      details: { feature: "x" },
    });
  });
});

describe("rendering any value in an error", () => {
  const deepArray = (depth: number): unknown => {
    let value: unknown = [];
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  };
  const deepObject = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = { a: value };
    return value;
  };
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const throwing = {
    ok: 1,
    get bad(): never {
      throw new Error("getter");
    },
  };
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const hostile: [string, unknown][] = [
    ["10,000 nested arrays", deepArray(10_000)],
    ["10,000 nested objects", deepObject(10_000)],
    ["a 1 MB string", "x".repeat(1_000_000)],
    ["a cycle", cyclic],
    ["a getter that throws", throwing],
    ["a revoked proxy", revoked.proxy],
    ["a bigint inside an object", { n: 12n }],
    ["a list of 100,000 items", Array.from({ length: 100_000 }, (_, i) => i)],
    [
      "an object of 100,000 keys",
      Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])),
    ],
    ["a buffer", Buffer.alloc(1_000_000)],
    ["NaN", Number.NaN],
  ];

  for (const [what, value] of hostile) {
    it(`quotes ${what} in at most 80 characters, and renders it as bounded details`, () => {
      const shown = show(value);
      assert.ok(shown.length <= 80, shown);
      const error = new StrataError("STRATA_E_ENTITY_KEY_TYPE", `bad ${shown}`, { value });
      const body = JSON.stringify({ error });
      assert.ok(body.length < 200_000, `${body.length} characters`);
      assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, error.code);
    });
  }

  it("quotes ordinary values as JSON, as before", () => {
    assert.equal(show("abc"), '"abc"');
    assert.equal(show(12), "12");
    assert.equal(show(12n), "12n");
    assert.equal(show(undefined), "undefined");
    assert.equal(show(null), "null");
    assert.equal(show({ a: [1, "x"] }), '{"a":[1,"x"]}');
    assert.equal(show("y".repeat(100)), `"${"y".repeat(76)}...`);
  });

  it("keeps details of ordinary size whole, and says what it cut from the rest", () => {
    const rejected = Array.from({ length: 1_000 }, (_, index) => ({
      index,
      code: "STRATA_E_VALUE_TYPE",
      message: `row ${index} is bad`,
    }));
    const { details } = JSON.parse(
      JSON.stringify(new StrataError("STRATA_E_BATCH_REJECTED", "bad", { rejected })),
    ) as { details: { rejected: unknown[] } };
    assert.deepEqual(details.rejected, rejected);

    const cut = new StrataError("STRATA_E_BAD_REQUEST", "bad", {
      text: "z".repeat(5_000),
      list: Array.from({ length: 1_500 }, () => 0),
      deep: deepArray(20),
      loop: cyclic,
    }).toJSON().details;
    assert.equal(cut.text, `${"z".repeat(1_000)}... (5000 characters)`);
    assert.equal((cut.list as unknown[]).length, 1_001);
    assert.equal((cut.list as unknown[])[1_000], "[500 more items]");
    assert.match(JSON.stringify(cut.deep), /"\[array of 1\]"/);
    assert.deepEqual(cut.loop, { name: "loop", self: "[circular]" });
  });
});

describe("errors as log fields", () => {
  it("renders any thrown value without throwing, bounded", () => {
    let deep: unknown = [];
    for (let i = 0; i < 10_000; i++) deep = [deep];
    for (const thrown of [deep, 10n, { n: 1n }, undefined, "text", new Error("boom")]) {
      const field = errorField(thrown);
      assert.equal(typeof field, "string");
      assert.ok(field.length < 1_100, `${field.length} characters`);
    }
    assert.equal(
      errorField(new StrataError("STRATA_E_INTERNAL", "boom", {})),
      "STRATA_E_INTERNAL: boom",
    );
  });
});
