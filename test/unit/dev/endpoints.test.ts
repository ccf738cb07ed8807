import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  localPorts,
  parseHostPortList,
  portOffset,
  resolveEndpoints,
} from "../../../dev/stack/endpoints.js";
import { StackError } from "../../../dev/stack/stack-error.js";

describe("stack endpoints", () => {
  it("defaults to the local stack on loopback, started by the stack", () => {
    const endpoints = resolveEndpoints({});
    assert.deepEqual(endpoints.redis, { address: "redis://127.0.0.1:16379", external: false });
    assert.deepEqual(
      endpoints.cluster.address.map((node) => node.port),
      [17001, 17002, 17003],
    );
    assert.equal(endpoints.cluster.external, false);
    assert.deepEqual(endpoints.kafka, { address: ["127.0.0.1:19092"], external: false });
  });

  it("uses the addresses from the environment and marks them external", () => {
    const endpoints = resolveEndpoints({
      REDIS_URL: "redis://cache.internal:6380/2",
      REDIS_CLUSTER_NODES: "10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002",
      KAFKA_BROKERS: "b1:9092,b2:9093",
    });
    assert.deepEqual(endpoints.redis, {
      address: "redis://cache.internal:6380/2",
      external: true,
      source: "REDIS_URL",
    });
    assert.deepEqual(endpoints.cluster.address, [
      { host: "10.0.0.1", port: 7000 },
      { host: "10.0.0.2", port: 7001 },
      { host: "::1", port: 7002 },
    ]);
    assert.deepEqual(endpoints.kafka.address, ["b1:9092", "b2:9093"]);
    assert.equal(endpoints.kafka.source, "KAFKA_BROKERS");
  });

  it("shifts every default port by STRATA_STACK_PORT_OFFSET", () => {
    const env = { STRATA_STACK_PORT_OFFSET: "1000" };
    assert.deepEqual(localPorts(env), {
      redis: 17379,
      cluster: [18001, 18002, 18003],
      kafka: 20092,
      kafkaController: 20093,
    });
    const endpoints = resolveEndpoints(env);
    assert.equal(endpoints.redis.address, "redis://127.0.0.1:17379");
    assert.deepEqual(endpoints.kafka.address, ["127.0.0.1:20092"]);
    assert.equal(portOffset({}), 0);
  });

  for (const bad of ["-1000", "1e3", "abc", "40000", "10.5"]) {
    it(`rejects STRATA_STACK_PORT_OFFSET=${bad} with a message naming the value`, () => {
      assert.throws(
        () => portOffset({ STRATA_STACK_PORT_OFFSET: bad }),
        (error: unknown) => error instanceof StackError && error.message.includes(`"${bad}"`),
      );
    });
  }

  it("treats an empty variable as unset", () => {
    assert.equal(resolveEndpoints({ REDIS_URL: "  " }).redis.external, false);
  });

  for (const [variable, value] of [
    ["REDIS_CLUSTER_NODES", "host-without-port"],
    ["REDIS_CLUSTER_NODES", "host:99999"],
    ["KAFKA_BROKERS", "b1:9092,b2"],
    ["REDIS_URL", "http://redis:6379"],
    ["REDIS_URL", "not a url"],
  ] as const) {
    it(`rejects ${variable}=${value} with a message naming the value`, () => {
      assert.throws(
        () => resolveEndpoints({ [variable]: value }),
        (error: unknown) =>
          error instanceof StackError &&
          error.message.includes(variable) &&
          error.message.includes(value.split(",").at(-1)!.split(":")[0]!),
      );
    });
  }

  it("parses bracketed IPv6 addresses", () => {
    assert.deepEqual(parseHostPortList("[fe80::1]:9092", "X"), [{ host: "fe80::1", port: 9092 }]);
  });
});
