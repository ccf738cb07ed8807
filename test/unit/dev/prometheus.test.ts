import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { loadIngestConfig } from "../../../functions/ingest/config.js";
import { DEFAULT_ADMIN_PORT } from "../../../functions/serve/config.js";
import { stackLayout } from "../../../dev/stack/layout.js";
import { renderPrometheusConfig } from "../../../dev/stack/prometheus-config.js";
import { pruneScrapeTargets, registerScrapeTarget } from "../../../dev/stack/prometheus-targets.js";
import { DEFAULT_SCRAPE_PORTS } from "../../../dev/stack/services/prometheus.js";
import { stackStatus } from "../../../dev/stack/stack.js";

describe("local Prometheus", () => {
  it("listens on 18090 plus the offset", () => {
    assert.equal(stackLayout(["a"], 0).prometheusPort, 18090);
    assert.equal(stackLayout(["a", "b"], 3000).prometheusPort, 21090);
  });

  it("is one row of status, for every region, with its URL", () => {
    const rows = stackStatus(stackLayout(["a", "b"], 0)).filter((row) => row.name === "prometheus");
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.address, "http://127.0.0.1:18090");
    assert.equal(rows[0]!.region, undefined);
  });

  it("scrapes the default admin ports of strata serve and strata ingest", () => {
    assert.equal(DEFAULT_SCRAPE_PORTS.serve, DEFAULT_ADMIN_PORT);
    assert.equal(
      DEFAULT_SCRAPE_PORTS.ingest,
      loadIngestConfig({
        KAFKA_BROKERS: "127.0.0.1:9092",
        REDIS_URL: "redis://127.0.0.1:6379",
        STRATA_REPO: "x.ts",
      }).metricsPort,
    );
  });

  it("renders a config that scrapes every target file each second, and the default ports", () => {
    const text = renderPrometheusConfig({
      targetsDir: "/stack/prometheus/targets",
      region: "a",
      servePort: 9465,
      ingestPort: 9464,
    });
    assert.match(text, /^ {2}scrape_interval: 1s$/m);
    assert.match(text, /files: \["\/stack\/prometheus\/targets\/\*\.json"\]/);
    assert.match(text, /refresh_interval: 1s/);
    // A process's own labels (the drift counter's region) win over its target's.
    assert.equal(text.match(/^ {4}honor_labels: true$/gm)?.length, 2);
    assert.match(
      text,
      /targets: \["127\.0\.0\.1:9465"\]\n\s+labels: \{ job: strata-serve, region: "a" \}/,
    );
    assert.match(
      text,
      /targets: \["127\.0\.0\.1:9464"\]\n\s+labels: \{ job: strata-ingest, region: "a" \}/,
    );
  });
});

describe("scrape targets (file_sd)", () => {
  it("writes one file per target with its job and labels, and removes it", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "targets-"));
    const remove = registerScrapeTarget(
      { address: "127.0.0.1:40001", job: "strata-serve", labels: { region: "b" } },
      dir,
    );
    const files = readdirSync(dir);
    assert.deepEqual(files, [`strata-serve.${process.pid}.127-0-0-1-40001.json`]);
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, files[0]!), "utf8")), [
      { targets: ["127.0.0.1:40001"], labels: { region: "b", job: "strata-serve" } },
    ]);
    remove();
    assert.deepEqual(readdirSync(dir), []);
  });

  it("prunes the files of processes that are gone, and only those", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "targets-"));
    // Pid 2^22 + 1 is above Linux's pid_max ceiling: never a live process.
    const deadPid = 4_194_305;
    registerScrapeTarget({ address: "127.0.0.1:40002", job: "strata-serve" }, dir);
    registerScrapeTarget(
      { address: "127.0.0.1:40003", job: "strata-ingest", ownerPid: deadPid },
      dir,
    );
    writeFileSync(path.join(dir, `strata-serve.${deadPid}.127-0-0-1-40004.json.tmp`), "[");
    writeFileSync(path.join(dir, "hand-written.json"), "[]");
    assert.equal(pruneScrapeTargets(dir), 2);
    assert.deepEqual(readdirSync(dir).sort(), [
      "hand-written.json",
      `strata-serve.${process.pid}.127-0-0-1-40002.json`,
    ]);
    assert.equal(pruneScrapeTargets(path.join(dir, "missing")), 0);
    assert.ok(!existsSync(path.join(dir, "missing")));
  });
});
