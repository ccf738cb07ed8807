import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseJavaMajor } from "../../../dev/stack/prerequisites.js";
import { summarizeOutput } from "../../../dev/stack/processes.js";
import { newClusterId, renderKafkaProperties } from "../../../dev/stack/services/kafka-config.js";
import { waitUntil } from "../../../dev/stack/wait.js";

describe("java version parsing", () => {
  it("reads the major version of modern and pre-9 JVMs", () => {
    assert.equal(parseJavaMajor('openjdk version "17.0.15" 2025-04-15'), 17);
    assert.equal(parseJavaMajor('openjdk version "21" 2023-09-19'), 21);
    assert.equal(parseJavaMajor('java version "1.8.0_392"'), 8);
    assert.equal(parseJavaMajor("command not found"), undefined);
  });
});

describe("kafka node config", () => {
  const properties = renderKafkaProperties({
    logDir: "/data/kafka/log",
    host: "127.0.0.1",
    brokerPort: 19092,
    controllerPort: 19093,
  });
  const parsed = Object.fromEntries(
    properties
      .trim()
      .split("\n")
      .map((line) => line.split("=", 2) as [string, string]),
  );

  it("runs broker and controller in one KRaft node on loopback", () => {
    assert.equal(parsed["process.roles"], "broker,controller");
    assert.equal(parsed["controller.quorum.voters"], "1@127.0.0.1:19093");
    assert.equal(parsed["listeners"], "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093");
    assert.equal(parsed["advertised.listeners"], "PLAINTEXT://127.0.0.1:19092");
    assert.equal(parsed["log.dirs"], "/data/kafka/log");
  });

  it("sizes the internal topics for a single node and never creates topics implicitly", () => {
    assert.equal(parsed["offsets.topic.replication.factor"], "1");
    assert.equal(parsed["transaction.state.log.replication.factor"], "1");
    assert.equal(parsed["auto.create.topics.enable"], "false");
  });

  it("makes cluster ids Kafka accepts: 16 bytes, URL-safe base64, no padding", () => {
    const id = newClusterId();
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(Buffer.from(id, "base64url").length, 16);
    assert.notEqual(newClusterId(), id);
  });

  it("never makes an id that a command line would take for an option", () => {
    // About 1 in 64 random ids starts with "-"; 2,000 draws miss that with odds of 1 in 10^13.
    for (let i = 0; i < 2_000; i++) assert.ok(!newClusterId().startsWith("-"));
  });
});

describe("tool output summary", () => {
  it("keeps the first error lines and strips colour codes", () => {
    const output =
      "\u001b[0m[INFO] scanning\n[ERROR] Non-parseable POM: bad comment\n[ERROR] more\n[ERROR] x\n[ERROR] y";
    assert.equal(
      summarizeOutput(output),
      "[ERROR] Non-parseable POM: bad comment | [ERROR] more | [ERROR] x",
    );
  });

  it("falls back to the last lines when nothing says error", () => {
    assert.equal(summarizeOutput("a\nb\nc\nd\n"), "b | c | d");
  });
});

describe("waitUntil", () => {
  it("returns ready as soon as the probe succeeds", async () => {
    let calls = 0;
    const outcome = await waitUntil(() => Promise.resolve(++calls === 3), {
      timeoutMs: 5_000,
      intervalMs: 1,
    });
    assert.equal(outcome, "ready");
    assert.equal(calls, 3);
  });

  it("gives up at the deadline instead of hanging, treating a throwing probe as not ready", async () => {
    const started = Date.now();
    const outcome = await waitUntil(() => Promise.reject(new Error("refused")), {
      timeoutMs: 50,
      intervalMs: 10,
    });
    assert.equal(outcome, "timeout");
    assert.ok(Date.now() - started < 1_000);
  });

  it("stops waiting when the process died", async () => {
    const outcome = await waitUntil(() => Promise.resolve(false), {
      timeoutMs: 5_000,
      stillAlive: () => false,
    });
    assert.equal(outcome, "died");
  });
});
