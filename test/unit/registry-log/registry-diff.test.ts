// The plan's diff and its classification of incompatible changes: one example per kind of
// change, and properties over generated repos (fast-check).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  definitionHash,
  type FeatureRepoDefinition,
  type FeatureViewDefinition,
} from "../../../shared/registry/index.js";
import {
  diffDefinitions,
  planFrom,
  renderPlan,
  type PlanChange,
} from "../../../shared/registry-log/index.js";
import { testRepo } from "../../support/store.js";
import { arbitraryRepo } from "./arbitrary-repo.js";

const base = (): FeatureRepoDefinition => ({
  ...testRepo("plan"),
  services: [
    { name: "model_a", features: ["stats@1:rate", "stats@1:trips"] },
    { name: "model_b", features: ["stats:rate", "stats:tags"] },
  ],
});

function edit(change: (repo: FeatureRepoDefinition) => void): FeatureRepoDefinition {
  const repo = structuredClone(base());
  change(repo);
  return repo;
}

function view(repo: FeatureRepoDefinition, name: string, major: number): FeatureViewDefinition {
  return repo.views.find((v) => v.name === name && v.version.startsWith(`${major}.`))!;
}

function features(repo: FeatureRepoDefinition, name: string, major: number) {
  return view(repo, name, major).features as Record<string, string>;
}

/** `<symbol> <kind> <subject>` and whether incompatible, per change. */
function summary(changes: PlanChange[]): string[] {
  const symbol = { add: "+", change: "~", remove: "-" };
  return changes.map(
    (c) => `${symbol[c.action]} ${c.kind} ${c.subject}${c.incompatible ? " !" : ""}`,
  );
}

describe("registry plan: each kind of change", () => {
  it("plans everything as added against nothing published, nothing incompatible", () => {
    const changes = diffDefinitions(undefined, base());
    assert.deepEqual(summary(changes), [
      "+ entity driver",
      "+ entity rider",
      "+ view stats@1",
      "+ view stats@2",
      "+ view rider_profile@1",
      "+ service model_a",
      "+ service model_b",
      "+ push-source driver_stats_push",
    ]);
  });

  it("plans nothing for the same definitions, whatever order their objects' keys come in", () => {
    const reorder = (value: unknown, key = ""): unknown => {
      if (Array.isArray(value)) return value.map((item) => reorder(item));
      if (!value || typeof value !== "object") return value;
      const entries = Object.entries(value).map(([k, v]) => [k, reorder(v, k)] as const);
      // Join keys' and features' order is declared meaning (see definitionHash).
      return Object.fromEntries(
        key === "joinKeys" || key === "features" ? entries : entries.reverse(),
      );
    };
    const reordered = reorder(base()) as FeatureRepoDefinition;
    assert.notEqual(JSON.stringify(reordered), JSON.stringify(base()));
    assert.deepEqual(diffDefinitions(base(), base()), []);
    assert.deepEqual(diffDefinitions(base(), reordered), []);
    assert.equal(definitionHash(reordered), definitionHash(base()));
  });

  it("join keys declared in another order are a different registry, with another hash", () => {
    const next = edit((r) => (r.entities[1]!.joinKeys = { city: "string", rider_id: "string" }));
    assert.notEqual(definitionHash(next), definitionHash(base()));
    assert.deepEqual(summary(diffDefinitions(base(), next)), [
      "~ entity rider",
      "~ view rider_profile@1 !",
    ]);
  });

  it("adds a major: compatible for a service that pins, incompatible for one reading the latest", () => {
    const next = edit((r) =>
      r.views.push({
        ...view(r, "stats", 2),
        version: "3.0.0",
        features: { rate: "float64", tags: "string[]" },
      }),
    );
    const changes = diffDefinitions(base(), next);
    assert.deepEqual(summary(changes), [
      "+ view stats@3",
      "~ service model_b !",
      "~ service model_b !",
    ]);
    assert.match(changes[1]!.detail, /stats:rate reads stats@3:rate instead of stats@2:rate/);
    assert.equal(changes[1]!.incompatible!.length, 1);
    assert.doesNotMatch(JSON.stringify(changes), /model_a/);
  });

  it("changes a feature's type within a major: incompatible, with the reason", () => {
    const next = edit((r) => (features(r, "stats", 2).trips = "string"));
    const [change] = diffDefinitions(base(), next);
    assert.equal(change!.subject, "stats@2:trips");
    assert.equal(change!.detail, "int64 → string");
    assert.match(change!.incompatible![0]!, /values stored as int64 would be read as string/);
  });

  it("removes a feature: compatible when nothing reads it, incompatible when a service does", () => {
    const unused = diffDefinitions(
      base(),
      edit((r) => delete features(r, "stats", 2).label),
    );
    assert.deepEqual(summary(unused), ["- feature stats@2:label"]);
    const used = diffDefinitions(
      base(),
      edit((r) => {
        delete features(r, "stats", 2).tags;
        r.services = r.services!.filter((s) => s.name !== "model_b");
      }),
    );
    assert.deepEqual(summary(used), ["- feature stats@2:tags !", "- service model_b !"]);
    assert.deepEqual(used[0]!.incompatible, ["feature service model_b reads it"]);
  });

  it("a type change in a major a service pins names the pin; an addition to it is a compatible minor version", () => {
    const added = diffDefinitions(
      base(),
      edit((r) => (features(r, "stats", 1).extra = "bool")),
    );
    assert.deepEqual(summary(added), ["+ feature stats@1:extra"]);
    const retyped = diffDefinitions(
      base(),
      edit((r) => {
        const f = features(r, "stats", 1);
        f[Object.keys(f)[0]!] = f[Object.keys(f)[0]!] === "bool" ? "string" : "bool";
      }),
    );
    assert.equal(retyped.length, 1);
    assert.ok(retyped[0]!.incompatible!.some((reason) => /model_a pins stats@1/.test(reason)));
  });

  it("changes join keys of a major (through its entity): incompatible for every major using it", () => {
    const next = edit((r) => (r.entities[0]!.joinKeys = { driver_id: "string" }));
    const changes = diffDefinitions(base(), next);
    assert.deepEqual(summary(changes), ["~ entity driver", "~ view stats@1 !", "~ view stats@2 !"]);
    assert.match(changes[1]!.incompatible![0]!, /stored under the old entities' keys/);
  });

  it("changes maxAge, criticality, minor version and feature order compatibly", () => {
    const next = edit((r) => {
      const stats = view(r, "stats", 2);
      stats.maxAgeMs = 120_000;
      stats.criticality = "critical";
      stats.version = "2.2.0";
      stats.features = { trips: "int64", rate: "float64", label: "string", tags: "string[]" };
    });
    const changes = diffDefinitions(base(), next);
    assert.deepEqual(
      changes.map((c) => [c.subject, c.detail, c.incompatible]),
      [
        ["stats@2", "version 2.1.0 → 2.2.0", undefined],
        ["stats@2", "maxAgeMs 60000 → 120000", undefined],
        ["stats@2", "criticality standard → critical", undefined],
        ["stats@2", "feature order rate, trips, label, tags → trips, rate, label, tags", undefined],
      ],
    );
  });

  it("removes a view major a service reads: incompatible; one nothing reads: compatible", () => {
    const next = edit((r) => {
      r.views = r.views.filter((v) => v.name !== "rider_profile");
    });
    assert.deepEqual(summary(diffDefinitions(base(), next)), ["- view rider_profile@1"]);
    const pinned = diffDefinitions(
      base(),
      edit((r) => {
        r.views = r.views.filter((v) => v.version !== "1.0.0" || v.name !== "stats");
        r.services = r.services!.filter((s) => s.name !== "model_a");
        r.pushSources = [{ name: "driver_stats_push", views: ["stats@2"] }];
      }),
    );
    assert.deepEqual(summary(pinned), [
      "- view stats@1 !",
      "- service model_a !",
      "~ push-source driver_stats_push",
    ]);
    assert.deepEqual(pinned[0]!.incompatible, ["feature service model_a reads it"]);
  });

  it("feature services: added compatible; removed, or reading less, incompatible; reading more compatible", () => {
    const changes = diffDefinitions(
      base(),
      edit((r) => {
        r.services = [
          { name: "model_a", features: ["stats@1:rate", "stats@1:label"] },
          { name: "model_c", features: ["rider_profile:vip"] },
        ];
      }),
    );
    assert.deepEqual(summary(changes), [
      "~ service model_a",
      "~ service model_a !",
      "+ service model_c",
      "- service model_b !",
    ]);
    assert.equal(changes[0]!.detail, "reads stats@1:label too");
    assert.equal(changes[1]!.detail, "no longer reads stats@1:trips");
    assert.match(changes[3]!.incompatible![0]!, /STRATA_E_UNKNOWN_FEATURE_SERVICE/);
  });

  it("pinning a reference to the major it already reads is a compatible change", () => {
    const changes = diffDefinitions(
      base(),
      edit((r) => (r.services![1]!.features = ["stats@2:rate", "stats@2:tags"])),
    );
    assert.deepEqual(summary(changes), ["~ service model_b"]);
    assert.match(changes[0]!.detail, /the same features/);
  });

  it("push sources: added, changed and removed, all compatible", () => {
    const changes = diffDefinitions(
      base(),
      edit((r) => {
        r.pushSources = [
          { name: "driver_stats_push", views: ["stats@2"], timestampField: "ts" },
          { name: "rider_push", views: ["rider_profile"] },
        ];
      }),
    );
    assert.deepEqual(summary(changes), [
      "~ push-source driver_stats_push",
      "+ push-source rider_push",
    ]);
    assert.equal(
      changes[0]!.detail,
      "to stats@1, stats@2, event time in event_timestamp → to stats@2, event time in ts",
    );
    const removed = diffDefinitions(
      base(),
      edit((r) => delete r.pushSources),
    );
    assert.deepEqual(summary(removed), ["- push-source driver_stats_push"]);
  });

  it("a change of descriptions only is one compatible change, so that it is published", () => {
    const changes = diffDefinitions(
      base(),
      edit((r) => (r.entities[0]!.description = "a driver")),
    );
    assert.deepEqual(summary(changes), ["~ definitions plan"]);
  });

  it("entities added and removed", () => {
    const changes = diffDefinitions(
      base(),
      edit((r) => r.entities.push({ name: "car", joinKeys: { plate: "string" } })),
    );
    assert.deepEqual(summary(changes), ["+ entity car"]);
    assert.deepEqual(
      summary(
        diffDefinitions(
          edit((r) => r.entities.push({ name: "car", joinKeys: { plate: "string" } })),
          base(),
        ),
      ),
      ["- entity car"],
    );
  });
});

describe("registry plan: against the registries published before", () => {
  const published = (version: number, definition: FeatureRepoDefinition) => ({
    version,
    definition,
  });

  it("re-adding a removed feature with another type is incompatible; with its old type it is not", () => {
    const without = edit((r) => delete features(r, "stats", 2).label);
    const history = [published(1, base()), published(2, without)];
    const retyped = edit((r) => (features(r, "stats", 2).label = "int64"));
    const [change] = diffDefinitions(without, retyped, history);
    assert.equal(change!.subject, "stats@2:label");
    assert.deepEqual(change!.incompatible, [
      "stats@2:label was published in version 1 as string: the values it stored would be read as int64",
    ]);
    assert.deepEqual(diffDefinitions(without, base(), history)[0]!.incompatible, undefined);
    assert.deepEqual(
      diffDefinitions(without, retyped)[0]!.incompatible,
      undefined,
      "no history, no reason",
    );
  });

  it("re-adding a removed major with other join keys or types is incompatible", () => {
    const without = edit((r) => (r.views = r.views.filter((v) => v.name !== "rider_profile")));
    const history = [published(3, base()), published(4, without)];
    const rekeyed = edit((r) => {
      r.entities[1]!.joinKeys = { rider_id: "int64", city: "string" };
      (view(r, "rider_profile", 1).features as Record<string, string>).vip = "string";
    });
    const changes = diffDefinitions(without, rekeyed, history);
    const added = changes.find((c) => c.subject === "rider_profile@1")!;
    assert.deepEqual(added.incompatible, [
      "rider_profile@1 was published in version 3 keyed by rider (rider_id string, city string): the rows it stored would not be found under rider (rider_id int64, city string)",
      "rider_profile@1:vip was published in version 3 as bool: the values it stored would be read as string",
    ]);
    const same = diffDefinitions(without, base(), history).find(
      (c) => c.subject === "rider_profile@1",
    )!;
    assert.equal(same.incompatible, undefined);
  });

  it("the newest earlier registry with the feature decides", () => {
    const v1 = edit((r) => (features(r, "stats", 2).extra = "int64"));
    const v2 = base();
    const v3 = edit((r) => (features(r, "stats", 2).extra = "string"));
    const history = [published(1, v1), published(2, v2), published(3, v3), published(4, base())];
    assert.equal(diffDefinitions(base(), v3, history)[0]!.incompatible, undefined);
    assert.equal(diffDefinitions(base(), v1, history)[0]!.incompatible!.length, 1);
  });
});

describe("registry plan: rendering", () => {
  it("renders + ~ - lines, each incompatible reason under its change, and the counts", () => {
    const next = edit((r) => {
      features(r, "stats", 2).trips = "string";
      r.views.push({ ...view(r, "rider_profile", 1), version: "2.0.0" });
      r.pushSources = [];
    });
    const published = {
      format: 1 as const,
      project: "plan",
      version: 7,
      hash: definitionHash(base()),
      previousHash: null,
      definition: base(),
      appliedBy: "ana@laptop",
      appliedAt: "2026-12-06T09:00:00.000Z",
      region: "a",
      strataVersion: "0.1.0",
      breaking: { allowed: false, changes: [] },
    };
    const text = renderPlan(planFrom(published, next));
    const hash = definitionHash(next).slice(0, 12);
    assert.equal(
      text,
      [
        `Registry of project plan: version 7 (${published.hash.slice(0, 12)}, applied by ana@laptop at 2026-12-06T09:00:00.000Z in a)`,
        `Plan for version 8 (${hash}):`,
        "",
        "  ~ feature stats@2:trips: int64 → string",
        "      ! incompatible: type change within a major: values stored as int64 would be read as string (add a new major instead)",
        "  + view rider_profile@2: 2.0.0, entities rider, features score float32, vip bool, blob bytes, maxAgeMs 86400000, critical",
        "  - push-source driver_stats_push: to stats@1, stats@2, event time in event_timestamp",
        "",
        "1 to add, 1 to change, 1 to remove; 1 incompatible (refused without --allow-breaking).",
        "",
      ].join("\n"),
    );
    assert.match(renderPlan(planFrom(published, base())), /No changes/);
  });
});

describe("registry plan: properties", () => {
  const swap = { add: "remove", remove: "add", change: "change" } as const;
  const keys = (changes: PlanChange[], flip: boolean) =>
    changes.map((c) => `${flip ? swap[c.action] : c.action} ${c.kind} ${c.subject}`).sort();

  it("the plan of a repo against itself is empty", () => {
    fc.assert(fc.property(arbitraryRepo(), (repo) => diffDefinitions(repo, repo).length === 0));
  });

  it("a plan is empty exactly when the definitions hash the same", () => {
    fc.assert(
      fc.property(arbitraryRepo(), arbitraryRepo(), (a, b) => {
        assert.equal(diffDefinitions(a, b).length === 0, definitionHash(a) === definitionHash(b));
      }),
    );
  });

  it("planning back reverses the plan: what one adds the other removes, changes pair up", () => {
    fc.assert(
      fc.property(arbitraryRepo(), arbitraryRepo(), (a, b) => {
        assert.deepEqual(keys(diffDefinitions(a, b), false), keys(diffDefinitions(b, a), true));
      }),
    );
  });

  it("type changes and join key changes are incompatible in both directions", () => {
    fc.assert(
      fc.property(arbitraryRepo(), arbitraryRepo(), (a, b) => {
        const hard = (changes: PlanChange[]) =>
          changes
            .filter(
              (c) =>
                (c.kind === "feature" && c.action === "change") ||
                (c.kind === "view" && c.detail.startsWith("entities and join keys")),
            )
            .map((c) => c.subject)
            .sort();
        const forward = diffDefinitions(a, b);
        const backward = diffDefinitions(b, a);
        assert.deepEqual(hard(forward), hard(backward));
        for (const change of [...forward, ...backward]) {
          if (hard([change]).length > 0) assert.ok(change.incompatible, change.subject);
        }
      }),
    );
  });

  it("adding only new views and features to majors no service pins is never incompatible", () => {
    fc.assert(
      fc.property(arbitraryRepo(), (repo) => {
        const grown = structuredClone(repo);
        const pinned = new Set(
          (repo.services ?? [])
            .flatMap((s) => s.features)
            .filter((f) => f.includes("@"))
            .map((f) => f.split(":")[0]),
        );
        for (const v of grown.views) {
          if (!pinned.has(`${v.name}@${v.version.split(".")[0]}`)) {
            (v.features as Record<string, string>).added_feature = "bool";
          }
        }
        grown.views.push({
          name: "added_view",
          version: "1.0.0",
          entities: [grown.entities[0]!.name],
          features: { x: "int64" },
          maxAgeMs: 1,
        });
        const changes = diffDefinitions(repo, grown);
        assert.ok(changes.length > 0);
        assert.deepEqual(
          changes.filter((c) => c.incompatible),
          [],
        );
      }),
    );
  });
});
