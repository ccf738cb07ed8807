import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ERROR_CODES, StrataError } from "../../../shared/errors.js";

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
