import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { painter } from "../../../cli/output.js";
import { planOutput } from "../../../cli/plan-output.js";
import { renderPlan, type RegistryPlan } from "../../../shared/registry-log/index.js";
import { runInProcess } from "../../support/cli.js";

const PLAN: RegistryPlan = {
  project: "driver_features",
  current: {
    version: 3,
    hash: "a".repeat(64),
    appliedBy: "ann@ci",
    appliedAt: "2026-12-06T09:00:00.000Z",
    region: "local",
  },
  hash: "b".repeat(64),
  changes: [
    { action: "add", kind: "feature", subject: "driver_stats@1:trips", detail: "int64" },
    {
      action: "change",
      kind: "feature",
      subject: "driver_stats@1:conv_rate",
      detail: "float32 → float64",
      incompatible: ["a type change within a major"],
    },
    { action: "remove", kind: "service", subject: "old_model", detail: "removed" },
  ],
  incompatible: 1,
};

describe("strata plan and apply: printing the registry library's plan", () => {
  it("prints the library's rendering, line for line, without colour off a terminal", () => {
    assert.equal(`${planOutput(PLAN, painter(false)).join("\n")}\n`, renderPlan(PLAN));
  });

  it("colours additions green, incompatible changes and their reasons red, on a terminal", () => {
    const lines = planOutput(PLAN, painter(true));
    const line = (text: string) => lines.find((l) => l.includes(text))!;
    assert.equal(
      line("+ feature driver_stats@1:trips"),
      "\x1b[32m  + feature driver_stats@1:trips: int64\x1b[39m",
    );
    const RED = "\x1b[31m";
    assert.ok(line("~ feature driver_stats@1:conv_rate").startsWith(RED));
    assert.ok(line("! incompatible: a type change").startsWith(RED));
    assert.ok(line("- service old_model").startsWith("\x1b[33m"));
    assert.ok(!line("Registry of project").includes("\x1b"));
  });

  it("needs a repo file: --repo, STRATA_REPO or strata.json", async () => {
    const run = await runInProcess(["plan"], { cwd: "/" });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /STRATA_E_BAD_CONFIG: STRATA_REPO is undefined/);
  });
});
