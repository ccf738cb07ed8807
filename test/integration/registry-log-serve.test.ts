// A real serving process (functions/serve/main.ts) following the published registry through
// STRATA_PROJECT, no STRATA_REPO: it starts on what was applied before it, and serves a feature
// service applied while it runs, without a restart (the time to /ready naming it is printed).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FeatureRepoDefinition } from "../../shared/registry/index.js";
import { applyRegistry, registryTopic } from "../../shared/registry-log/index.js";
import { TEST_TOPICS } from "../support/changelog.js";
import { openRegistryKafka, type RegistryKafka } from "../support/registry-kafka.js";
import { post } from "../support/serve.js";
import type { ServeProcess } from "../support/serve-process.js";
import { startFollowingServe } from "../support/registry-apply-probe.js";
import { testRepo, uniqueProject } from "../support/store.js";

interface Ready {
  status: string;
  registry: { version: number; hash: string; origin: string };
}

describe("a serving process following the published registry (STRATA_PROJECT)", () => {
  const project = uniqueProject("regserve");
  let kafka: RegistryKafka;
  let server: ServeProcess | undefined;
  const apply = (definition: FeatureRepoDefinition) =>
    applyRegistry({
      kafka: kafka.kafka,
      definition,
      appliedBy: "tester@ci",
      region: "a",
      topics: TEST_TOPICS,
    });
  const ready = async (): Promise<Ready> =>
    (await (await fetch(`${server!.adminUrl}/ready`)).json()) as Ready;

  before(async () => {
    kafka = await openRegistryKafka();
  });
  after(async () => {
    await server?.stop();
    await kafka.close([project]);
  });

  it("starts on the registry applied before it, and serves an apply made while it runs", async () => {
    const first = await apply(testRepo(project));
    server = await startFollowingServe(project, "a");
    const started = await ready();
    assert.equal(started.registry.version, first.version);
    assert.equal(started.registry.hash, first.hash);
    assert.equal(started.registry.origin, `kafka:${registryTopic(project)}@${first.offset}`);
    const unknown = await post(
      server.url,
      { feature_service: "model_new", entities: { driver_id: [1] } },
      { key: server.key },
    );
    assert.equal(unknown.status, 404);

    const next = testRepo(project);
    next.services!.push({ name: "model_new", features: ["stats:rate", "stats@1:trips"] });
    const applied = await apply(next);
    const t0 = performance.now();
    while ((await ready()).registry.version !== applied.version) {
      assert.ok(performance.now() - t0 < 10_000, "the server did not take the new registry");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    console.log(
      `# serving: /ready names the applied version ${(performance.now() - t0).toFixed(0)} ms after applyRegistry returned`,
    );
    const served = await post(
      server.url,
      { feature_service: "model_new", entities: { driver_id: [1] } },
      { key: server.key },
    );
    assert.equal(served.status, 200, served.text);
  });
});
