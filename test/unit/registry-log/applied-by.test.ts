// Who and which strata version a published record names.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import os from "node:os";
import { describe, it } from "node:test";
import { defaultAppliedBy, strataVersion } from "../../../shared/registry-log/index.js";

describe("a published record's provenance", () => {
  it("names STRATA_APPLIED_BY when set, else user@host", () => {
    assert.equal(defaultAppliedBy({ STRATA_APPLIED_BY: " ci-deploy " }), "ci-deploy");
    assert.equal(defaultAppliedBy({}), `${os.userInfo().username}@${os.hostname()}`);
  });

  it("names the strata package's version", () => {
    const pkg = JSON.parse(
      readFileSync(new URL("../../../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    assert.equal(strataVersion(), pkg.version);
  });
});
