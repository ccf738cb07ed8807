import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_REGIONS, parseRegionList, stackLayout } from "../../../dev/stack/layout.js";
import { renderKafkaProperties } from "../../../dev/stack/services/kafka-config.js";
import { StackError } from "../../../dev/stack/stack-error.js";

function allPorts(offset: number, regions = MAX_REGIONS): number[] {
  const names = Array.from({ length: regions }, (_, i) => `r${i}`);
  const layout = stackLayout(names, offset);
  return [
    ...layout.clusterPorts,
    // A cluster node also listens on its bus port, 10000 above.
    ...layout.clusterPorts.map((port) => port + 10_000),
    layout.toxiproxyApiPort,
    layout.prometheusPort,
    ...layout.regions.flatMap((r) => [
      r.redisPort,
      r.kafkaPort,
      r.controllerPort,
      r.peerPort,
      r.proxyPort,
    ]),
  ];
}

describe("region list", () => {
  it("keeps the order (region 0 first) and trims blanks", () => {
    assert.deepEqual(parseRegionList(" a, b ,c-2,"), ["a", "b", "c-2"]);
  });

  for (const [text, named] of [
    ["", ""],
    ["a,B", "B"],
    ["a,b.c", "b.c"],
    ["a,-b", "-b"],
    ["a,b,a", "a"],
    ["a,strata", "strata"],
    ["a,b_c", "b_c"],
  ] as const) {
    it(`refuses "${text}" naming the bad region`, () => {
      assert.throws(
        () => parseRegionList(text),
        (error: unknown) => error instanceof StackError && error.message.includes(`"${named}"`),
      );
    });
  }

  it(`refuses more than ${MAX_REGIONS} regions`, () => {
    const names = Array.from({ length: MAX_REGIONS + 1 }, (_, i) => `r${i}`).join(",");
    assert.throws(() => parseRegionList(names), StackError);
    assert.equal(parseRegionList(names.split(",").slice(0, MAX_REGIONS).join(",")).length, 8);
  });
});

describe("port layout", () => {
  it("gives region 0 the single-region stack's ports", () => {
    const [a] = stackLayout(["a"], 0).regions;
    assert.deepEqual(
      { redis: a?.redisPort, kafka: a?.kafkaPort, controller: a?.controllerPort },
      { redis: 16379, kafka: 19092, controller: 19093 },
    );
    assert.deepEqual(stackLayout(["a"], 0).clusterPorts, [17001, 17002, 17003]);
  });

  it("lays region i out in the block of ten at 19092 + 10i, Redis at 16379 + i", () => {
    const layout = stackLayout(["a", "b", "c"], 0);
    assert.deepEqual(
      layout.regions.map((r) => [
        r.name,
        r.redisPort,
        r.kafkaPort,
        r.controllerPort,
        r.peerPort,
        r.proxyPort,
        r.proxyName,
      ]),
      [
        ["a", 16379, 19092, 19093, 19094, 19095, "kafka-a"],
        ["b", 16380, 19102, 19103, 19104, 19105, "kafka-b"],
        ["c", 16381, 19112, 19113, 19114, 19115, "kafka-c"],
      ],
    );
    assert.equal(layout.toxiproxyApiPort, 18474);
  });

  it("never gives two services the same port, at the largest layout", () => {
    const ports = allPorts(0);
    assert.equal(new Set(ports).size, ports.length);
  });

  it("keeps a stack at offset 1000 clear of every port of a stack at offset 0", () => {
    const base = new Set(allPorts(0));
    const shifted = allPorts(1000);
    assert.deepEqual(
      shifted.filter((port) => base.has(port)),
      [],
    );
    assert.equal(stackLayout(["a"], 1000).regions[0]?.kafkaPort, 20092);
    assert.ok(Math.max(...allPorts(30_000)) <= 65_535);
  });
});

describe("kafka PEER listener", () => {
  it("listens on the peer port and advertises the proxy in front of it", () => {
    const properties = renderKafkaProperties({
      logDir: "/d",
      host: "127.0.0.1",
      brokerPort: 19102,
      controllerPort: 19103,
      peer: { port: 19104, advertisedPort: 19105 },
    });
    assert.match(
      properties,
      /^listeners=PLAINTEXT:\/\/127\.0\.0\.1:19102,CONTROLLER:\/\/127\.0\.0\.1:19103,PEER:\/\/127\.0\.0\.1:19104$/m,
    );
    assert.match(
      properties,
      /^advertised\.listeners=PLAINTEXT:\/\/127\.0\.0\.1:19102,PEER:\/\/127\.0\.0\.1:19105$/m,
    );
    assert.match(properties, /^listener\.security\.protocol\.map=.*PEER:PLAINTEXT/m);
    assert.match(properties, /^inter\.broker\.listener\.name=PLAINTEXT$/m);
  });

  it("has no PEER listener in a single-region stack", () => {
    const properties = renderKafkaProperties({
      logDir: "/d",
      host: "127.0.0.1",
      brokerPort: 19092,
      controllerPort: 19093,
    });
    assert.doesNotMatch(properties, /PEER/);
  });
});
