import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stackLayout } from "../../../dev/stack/layout.js";
import {
  PROBE_TOPIC,
  WORKER_SETTINGS,
  renderMirrorMakerProperties,
} from "../../../dev/stack/services/mirror-maker-config.js";

function parse(text: string): Map<string, string> {
  const entries = text
    .split("\n")
    .filter((line) => line.trim() && !line.startsWith("#"))
    .map((line) => {
      const at = line.indexOf("=");
      // As java.util.Properties reads a value: a backslash escapes the character after it.
      const value = line
        .slice(at + 1)
        .trim()
        .replace(/\\(.)/g, "$1");
      return [line.slice(0, at).trim(), value] as [string, string];
    });
  const keys = entries.map(([key]) => key);
  assert.equal(new Set(keys).size, keys.length, "a key is set twice");
  return new Map(entries);
}

/** MM2's topic filter: a comma-separated list of regexes, each matched against the whole name. */
function replicates(topicsSetting: string, topic: string): boolean {
  return topicsSetting
    .split(",")
    .map((pattern) => new RegExp(`^(?:${pattern.trim()})$`))
    .some((pattern) => pattern.test(topic));
}

describe("MirrorMaker 2 properties", () => {
  const layout = stackLayout(["a", "b", "c"], 1000);
  const properties = parse(renderMirrorMakerProperties(layout));

  it("names every region as a cluster reached through its proxy, never the plain listener", () => {
    assert.equal(properties.get("clusters"), "a, b, c");
    assert.equal(properties.get("a.bootstrap.servers"), "127.0.0.1:20095");
    assert.equal(properties.get("b.bootstrap.servers"), "127.0.0.1:20105");
    assert.equal(properties.get("c.bootstrap.servers"), "127.0.0.1:20115");
  });

  it("enables every ordered pair of distinct regions and nothing else", () => {
    const flows = [...properties.keys()].filter(
      (key) => key.endsWith(".enabled") && key.includes("->"),
    );
    assert.deepEqual(flows.sort(), [
      "a->b.enabled",
      "a->c.enabled",
      "b->a.enabled",
      "b->c.enabled",
      "c->a.enabled",
      "c->b.enabled",
    ]);
    assert.ok(flows.every((key) => properties.get(key) === "true"));
  });

  it("uses the default replication policy (no policy class set)", () => {
    assert.equal(properties.has("replication.policy.class"), false);
  });

  it("replicates changelogs, registries and the probe; never the DLQ or a replicated topic", () => {
    const topics = properties.get("topics")!;
    for (const topic of [
      "strata.p.changelog",
      "strata.my-proj.changelog",
      "strata.p.registry",
      PROBE_TOPIC,
    ]) {
      assert.ok(replicates(topics, topic), `${topic} should replicate`);
    }
    for (const topic of [
      "strata.p.dlq",
      "a.strata.p.changelog",
      "b.a.strata.p.changelog",
      "a.strata.p.registry",
      `a.${PROBE_TOPIC}`,
      "xstrata.p.changelog",
      "strata.p.changelog.x",
      "strata-stack-probe",
      "strata-x.changelog",
    ]) {
      assert.ok(!replicates(topics, topic), `${topic} must not replicate`);
    }
  });

  it("sizes every topic MM2 creates for single-broker regions", () => {
    for (const key of [
      "replication.factor",
      "checkpoints.topic.replication.factor",
      "heartbeats.topic.replication.factor",
      "offset-syncs.topic.replication.factor",
      "offset.storage.replication.factor",
      "status.storage.replication.factor",
      "config.storage.replication.factor",
    ]) {
      assert.equal(properties.get(key), "1", key);
    }
  });

  it("keeps each region's consumer groups its own and lists new topics within seconds", () => {
    assert.equal(properties.get("sync.group.offsets.enabled"), "false");
    assert.equal(properties.get("emit.checkpoints.enabled"), "false");
    assert.ok(Number(properties.get("refresh.topics.interval.seconds")) <= 5);
  });

  it("sets the Connect worker settings per cluster, where MM2 reads them, never at top level", () => {
    for (const [key, value] of Object.entries(WORKER_SETTINGS)) {
      assert.equal(properties.has(key), false, `${key} at top level is ignored by MM2`);
      for (const region of ["a", "b", "c"]) {
        assert.equal(properties.get(`${region}.${key}`), String(value), `${region}.${key}`);
      }
    }
    assert.equal(properties.get("a.scheduled.rebalance.max.delay.ms"), "0");
  });

  it("links only two regions both ways for a two-region stack", () => {
    const two = parse(renderMirrorMakerProperties(stackLayout(["eu-west", "us-east"], 0)));
    assert.equal(two.get("eu-west->us-east.enabled"), "true");
    assert.equal(two.get("us-east->eu-west.enabled"), "true");
    assert.equal(two.get("eu-west.bootstrap.servers"), "127.0.0.1:19095");
  });
});
