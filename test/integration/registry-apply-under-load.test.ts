// `apply` while a real serving process that follows the published registry (STRATA_PROJECT) is
// under read load: no request fails, and every applied view is served within a bound (the
// times are printed; `npm run bench -- registry` measures them over more applies).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { applyRegistry } from "../../shared/registry-log/index.js";
import { TEST_TOPICS } from "../support/changelog.js";
import { openRegistryKafka, type RegistryKafka } from "../support/registry-kafka.js";
import {
  msUntilServed,
  startFollowingServe,
  startReadLoad,
  withProbeViews,
} from "../support/registry-apply-probe.js";
import type { ServeProcess } from "../support/serve-process.js";
import { testRepo, uniqueProject } from "../support/store.js";

const APPLIES = 5;
const READERS = 4;
/** The bound on apply-to-served; the measured times are far below it on an idle machine. */
const SERVED_WITHIN_MS = 10_000;

describe("apply while a serving process is under read load", () => {
  const project = uniqueProject("regload");
  let kafka: RegistryKafka;
  let server: ServeProcess | undefined;

  before(async () => {
    kafka = await openRegistryKafka();
  });
  after(async () => {
    await server?.stop();
    await kafka.close([project]);
  });

  it("fails no request, and serves each applied view within the bound", async () => {
    const base = testRepo(project);
    const apply = (n: number) =>
      applyRegistry({
        kafka: kafka.kafka,
        definition: withProbeViews(base, n),
        appliedBy: "tester@ci",
        topics: TEST_TOPICS,
      });
    await apply(0);
    const serving = await startFollowingServe(project);
    server = serving;
    const entities = { driver_id: [1, 2, 3] };
    const load = startReadLoad(
      serving.url,
      serving.key,
      { feature_service: "model_a", entities },
      READERS,
    );
    const served: number[] = [];
    try {
      for (let n = 1; n <= APPLIES; n++) {
        const startedAt = performance.now();
        const applied = await apply(n);
        assert.equal(applied.published, true);
        served.push(
          await msUntilServed(serving.url, serving.key, n, entities, startedAt, SERVED_WITHIN_MS),
        );
      }
    } finally {
      const { requests, failures } = await load.stop();
      console.log(
        `# ${requests} reads by ${READERS} readers during ${APPLIES} applies, ${failures.length} failed; apply to served (ms): ${served.map((ms) => ms.toFixed(0)).join(", ")}`,
      );
      assert.deepEqual(failures.slice(0, 5), [], "a read failed while the registry changed");
      assert.ok(requests > APPLIES * READERS, "the readers ran throughout");
    }
  });
});
