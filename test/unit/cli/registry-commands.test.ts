import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { painter } from "../../../cli/output.js";
import {
  registryCommands,
  type AppliedRegistry,
  type RegistryCommandOptions,
  type RegistryPlan,
} from "../../../cli/registry-commands.js";
import { planText } from "../../../cli/registry-plan-text.js";
import { StrataError } from "../../../shared/errors.js";
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
      incompatible: ["a type change within a major", "service driver_activity pins it"],
    },
    { action: "remove", kind: "service", subject: "old_model", detail: "removed" },
  ],
  incompatible: 1,
};

const original = { ...registryCommands };
afterEach(() => Object.assign(registryCommands, original));

describe("strata plan and apply: printing what the registry library returns", () => {
  it("renders a plan: one line per change, each reason of an incompatible one, the counts", () => {
    assert.deepEqual(planText(PLAN, painter(false)), [
      "registry of project driver_features: version 3 (aaaaaaaaaaaa, applied by ann@ci at 2026-12-06T09:00:00.000Z in local)",
      "plan for version 4 (bbbbbbbbbbbb):",
      "  + feature driver_stats@1:trips: int64",
      "  ~ feature driver_stats@1:conv_rate: float32 → float64",
      "      ! incompatible: a type change within a major",
      "      ! incompatible: service driver_activity pins it",
      "  - service old_model: removed",
      "1 to add, 1 to change, 1 to remove; 1 incompatible (refused without --allow-breaking)",
    ]);
    assert.deepEqual(planText({ ...PLAN, changes: [], incompatible: 0 }, painter(false)), [
      "registry of project driver_features: version 3 (aaaaaaaaaaaa, applied by ann@ci at 2026-12-06T09:00:00.000Z in local)",
      "no changes: the published registry is this definition (bbbbbbbbbbbb)",
    ]);
  });

  it("passes the repo file, the layered environment and --allow-breaking to the library", async () => {
    let seen: RegistryCommandOptions | undefined;
    registryCommands.plan = (options) => {
      seen = options;
      return Promise.resolve(PLAN);
    };
    const run = await runInProcess(["plan", "--repo", "repo.mts", "--allow-breaking", "--json"], {
      cwd: "/work/features",
      env: { KAFKA_BROKERS: "k:9092" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), PLAN);
    assert.equal(seen?.repoPath, "/work/features/repo.mts");
    assert.equal(seen?.allowBreaking, true);
    assert.equal(seen?.env.KAFKA_BROKERS, "k:9092");
  });

  it("prints what apply published, and exits 1 with the library's code when it refuses", async () => {
    const applied: AppliedRegistry = {
      published: true,
      version: 4,
      hash: PLAN.hash,
      plan: PLAN,
      topic: "strata.driver_features.registry",
      offset: "7",
      createdTopics: [],
      warnings: [],
    };
    registryCommands.apply = () => Promise.resolve(applied);
    const run = await runInProcess(["apply", "--repo", "/r.mts"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /\npublished version 4 \(bbbbbbbbbbbb\) to strata\.driver_features\.registry\n$/,
    );
    registryCommands.apply = () =>
      Promise.reject(new StrataError("STRATA_E_BAD_REGISTRY", "1 incompatible change"));
    const refused = await runInProcess(["apply", "--repo", "/r.mts"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^strata: STRATA_E_BAD_REGISTRY: 1 incompatible change\n {2}→ /);
  });

  it("needs a repo file: --repo, STRATA_REPO or strata.json", async () => {
    const run = await runInProcess(["plan"], { cwd: "/" });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /STRATA_E_BAD_CONFIG: STRATA_REPO is undefined/);
  });
});
