// The local stack's Prometheus service (dev/stack/services/prometheus.ts): a private one,
// started beside the stack's under another name, port and folders, so this test never
// restarts a server of a stack other tests use.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { stackLayout } from "../../dev/stack/layout.js";
import { registerScrapeTarget } from "../../dev/stack/prometheus-targets.js";
import { Prometheus } from "../../dev/stack/services/prometheus.js";
import { queryPrometheus, waitForQuery } from "../support/prometheus.js";
import { uniqueName } from "../support/servers.js";

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("local Prometheus service", () => {
  const work = mkdtempSync(path.join(os.tmpdir(), "strata-prometheus-"));
  const targetsDir = path.join(work, "targets");
  const metric = uniqueName("strata_test_probe").replace(/-/g, "_");
  let prometheus: Prometheus;
  let exporter: http.Server;
  let exporterAddress: string;

  before(async () => {
    const layout = { ...stackLayout(["a"]), prometheusPort: await freePort() };
    prometheus = new Prometheus(layout, {
      name: uniqueName("prometheus-test"),
      dir: path.join(work, "data"),
      targetsDir,
    });
    // What a serving process exposes: a counter in Prometheus' text format.
    exporter = http.createServer((_request, response) => {
      response.setHeader("content-type", "text/plain; version=0.0.4");
      // One series with a region of its own, as the drift counter has: it must keep it.
      response.end(
        `# TYPE ${metric} counter\n${metric}{bucket="b1"} 42\n${metric}{bucket="b2",region="c"} 7\n`,
      );
    });
    await new Promise<void>((resolve) => exporter.listen(0, "127.0.0.1", resolve));
    exporterAddress = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;
  });

  after(async () => {
    await prometheus.down();
    await new Promise((resolve) => exporter.close(resolve));
  });

  it("starts, is ready on its port, and status says running with its URL and pid", async () => {
    const t0 = performance.now();
    assert.equal(await prometheus.up(() => {}), "started");
    const seconds = (performance.now() - t0) / 1000;
    const status = prometheus.status();
    assert.equal(status.state, "running");
    assert.equal(status.address, prometheus.url);
    assert.equal(status.pids.length, 1);
    assert.ok(await prometheus.ready());
    // Informational: what Prometheus adds to a stack's start-up (it starts in parallel).
    console.log(`prometheus ready in ${seconds.toFixed(2)} s`);
  });

  it("writes a configuration Prometheus' own promtool accepts", () => {
    const config = path.join(work, "data", "prometheus.yml");
    const out = execFileSync("promtool", ["check", "config", config], { encoding: "utf8" });
    assert.match(out, /SUCCESS/);
    assert.match(readFileSync(config, "utf8"), new RegExp(targetsDir));
  });

  it("scrapes a registered target with its job and labels, and forgets it once removed", async () => {
    const remove = registerScrapeTarget(
      { address: exporterAddress, job: "strata-serve", labels: { region: "b" } },
      targetsDir,
    );
    const samples = await waitForQuery(prometheus.url, metric, (s) => s.length === 2);
    samples.sort((a, b) => a.value - b.value);
    assert.deepEqual(samples, [
      {
        labels: {
          __name__: metric,
          bucket: "b2",
          instance: exporterAddress,
          job: "strata-serve",
          region: "c",
        },
        value: 7,
      },
      {
        labels: {
          __name__: metric,
          bucket: "b1",
          instance: exporterAddress,
          job: "strata-serve",
          region: "b",
        },
        value: 42,
      },
    ]);
    remove();
    const deadline = Date.now() + 15_000;
    let active = true;
    while (active && Date.now() < deadline) {
      const response = await fetch(`${prometheus.url}/api/v1/targets?state=active`);
      const body = (await response.json()) as {
        data: { activeTargets: { labels: Record<string, string> }[] };
      };
      active = body.data.activeTargets.some((t) => t.labels.instance === exporterAddress);
      if (active) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(active, false, "the removed target is still scraped");
  });

  it("is reused by a second up, and down stops it", async () => {
    assert.equal(await prometheus.up(() => {}), "reused");
    assert.equal(await prometheus.down(), true);
    assert.equal(prometheus.status().state, "stopped");
    assert.equal(await prometheus.ready(), false);
    await assert.rejects(queryPrometheus(prometheus.url, "up"));
  });
});
