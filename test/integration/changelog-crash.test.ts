import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import type { ChangelogWriter } from "../../shared/changelog/index.js";
import { diffChecksums, regionChecksum, type WriteRow } from "../../shared/online-store/index.js";
import { definitionHash, FeatureRegistry } from "../../shared/registry/index.js";
import {
  changelogFixture,
  checksumsOf,
  latestPerDriver,
  type ChangelogFixture,
} from "../support/changelog.js";
import { startIngestProcess, type IngestProcess } from "../support/ingest-process.js";
import { seededRandom } from "../support/seeded-random.js";
import { testRepo, uniqueProject } from "../support/store.js";

const DRIVERS = 2_500;
const VERSIONS = 6;
const REGION = "test-crash";

/** Several versions per driver, acknowledged by Kafka in a random order. */
function history(): WriteRow[] {
  const random = seededRandom(11);
  const rows: WriteRow[] = [];
  for (let driver = 0; driver < DRIVERS; driver++) {
    for (let v = 0; v < VERSIONS; v++) {
      const eventTsMs = Date.now() - 1_000_000 + Math.floor(random() * 1_000_000);
      rows.push({
        view: "stats@1",
        entity: { driver_id: driver },
        values: { rate: random(), trips: v, label: `d${driver}v${v}` },
        version: {
          eventTsMs,
          epoch: 0,
          hlc: { wallMs: eventTsMs, counter: v },
          originRegion: "eu-west-1",
        },
      });
    }
  }
  return rows.sort(() => random() - 0.5);
}

/** Started as deployed (the consumer's node flags), with a small chunk so a kill lands mid-work. */
function startConsumerProcess(project: string): IngestProcess {
  return startIngestProcess({
    project,
    region: REGION,
    env: {
      STRATA_INGEST_CHUNK: "250",
      // The broker's minimum: the killed member's partitions move to the restarted one sooner.
      STRATA_INGEST_SESSION_TIMEOUT_MS: "6000",
    },
  });
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
    } else child.once("exit", (code, signal) => resolve({ code, signal }));
  });

describe("the consumer process killed in the middle of its work", () => {
  const project = uniqueProject("crash");
  const registry = new FeatureRegistry(testRepo(project));
  let changelog: ChangelogFixture;
  let writer: ChangelogWriter;
  const rows = history();
  const live = new Redis(resolveEndpoints().redis.address);

  before(async () => {
    changelog = await changelogFixture(registry);
    writer = await changelog.openWriter();
  });
  after(async () => {
    await changelog.cleanup();
    live.disconnect();
  });

  it("loses no acknowledged write and regresses no value after SIGKILL and a restart", async () => {
    for (let i = 0; i < rows.length; i += 1_000) {
      await writer.write(rows.slice(i, i + 1_000), { wait: "acked" });
    }
    const ends = await changelog.endOffsets();
    const total = [...ends.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, rows.length, "every write is acknowledged and in the log");

    const first = startConsumerProcess(project);
    let committedAtKill: number;
    for (;;) {
      const committed = await changelog.committed(REGION);
      committedAtKill = [...committed.values()].reduce((a, b) => a + Math.max(0, b), 0);
      if (committedAtKill > 0) break;
      if (first.child.exitCode !== null) assert.fail(`consumer exited: ${first.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    first.child.kill("SIGKILL");
    assert.equal((await exited(first.child)).signal, "SIGKILL");
    assert.ok(
      committedAtKill < total,
      `killed part-way: ${committedAtKill} of ${total} records committed`,
    );
    console.log(`killed after ${committedAtKill} of ${total} records were committed`);

    const second = startConsumerProcess(project);
    await changelog.waitCaughtUp(REGION, 120_000);

    // What the region must hold: the highest version of each driver, nothing else.
    const expected = await checksumsOf(registry, latestPerDriver(rows));
    const actual = await regionChecksum(live, registry);
    assert.equal(actual.find((c) => c.view === "stats@1")!.rows, DRIVERS);
    assert.deepEqual(diffChecksums(actual, expected), []);

    // Its readiness and metrics name the registry it applies with: the STRATA_REPO file.
    const ready = (await (
      await fetch(`http://127.0.0.1:${second.metricsPort()}/ready`)
    ).json()) as Record<string, unknown>;
    assert.deepEqual(ready, {
      status: "ready",
      registry: {
        version: 0,
        hash: definitionHash(testRepo(project)),
        origin: "file:test/support/test-repo-module.ts",
      },
    });
    const metrics = await (await fetch(`http://127.0.0.1:${second.metricsPort()}/metrics`)).text();
    assert.match(metrics, new RegExp(`^strata_registry_version\\{project="${project}"\\} 0$`, "m"));

    // A graceful stop commits what it applied and exits 0.
    second.child.kill("SIGTERM");
    const stop = await exited(second.child);
    assert.equal(stop.code, 0, second.output());
    assert.match(second.output(), /"message":"stopped"/);
    assert.deepEqual(await changelog.committed(REGION), ends);
  });
});
