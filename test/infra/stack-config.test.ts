import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  kafkaArns,
  servingTaskPolicy,
  consumerTaskPolicy,
  wildcardActions,
} from "../../infra/aws/policies.js";
import { subnetCidr } from "../../infra/cidr.js";
import { parseStackConfig, StackConfigError } from "../../infra/config.js";
import { runStack, stackFileConfig } from "./pulumi-mocks.js";

const stripped = (config: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^strata:/, ""), v]));

describe("stack configuration", () => {
  const base = stackFileConfig("aws-us-east-1");
  const invalid: [string, Record<string, unknown>, RegExp][] = [
    [
      "an unknown cloud",
      { "strata:cloud": "gcp" },
      /strata:cloud is "gcp"; it must be one of: aws, azure, kubernetes/,
    ],
    ["a missing region", { "strata:region": undefined }, /strata:region is missing/],
    [
      "min replicas 0",
      { "strata:serving": { ...(base["strata:serving"] as object), minReplicas: 0 } },
      /strata:serving\.minReplicas is 0; it must be an integer from 1/,
    ],
    [
      "shards 0",
      { "strata:redis": { ...(base["strata:redis"] as object), shards: 0 } },
      /strata:redis\.shards is 0; it must be an integer from 1/,
    ],
    [
      "max below min replicas",
      { "strata:serving": { ...(base["strata:serving"] as object), maxReplicas: 1 } },
      /strata:serving\.maxReplicas/,
    ],
    [
      "brokers not a multiple of the zones",
      { "strata:kafka": { ...(base["strata:kafka"] as object), brokers: 4 } },
      /strata:kafka\.brokers is 4; on AWS it must be a multiple of aws\.zones \(3\)/,
    ],
    ["no certificate", { "strata:aws": { zones: 3 } }, /strata:aws\.certificateArn is missing/],
  ];

  for (const [what, change, message] of invalid) {
    it(`refuses ${what}, naming the key, before declaring any resource`, async () => {
      const config = { ...base, ...change };
      assert.throws(
        () => parseStackConfig(stripped(config)),
        (e: unknown) => e instanceof StackConfigError && message.test(e.message),
      );
      await assert.rejects(
        runStack("invalid", config),
        (e: unknown) => e instanceof Error && message.test(e.message),
      );
    });
  }

  it("refuses Azure Redis below Premium, and Strimzi installation without a chart", () => {
    const azure = stackFileConfig("azure-westeurope");
    assert.throws(
      () =>
        parseStackConfig(
          stripped({
            ...azure,
            "strata:redis": { shards: 2, replicasPerShard: 1, nodeSize: "C1" },
          }),
        ),
      /strata:redis\.nodeSize is "C1"; on Azure it must be a Premium size/,
    );
    const onprem = stackFileConfig("onprem-dc1");
    assert.throws(
      () =>
        parseStackConfig(
          stripped({
            ...onprem,
            "strata:kubernetes": {
              installStrimzi: true,
              tlsSecretName: "t",
              redisTlsSecretName: "r",
            },
          }),
        ),
      /strata:kubernetes\.strimziChart is missing/,
    );
  });
});

describe("infrastructure helpers", () => {
  it("carves /20 subnets out of a /16 without overlap", () => {
    assert.deepEqual(
      [0, 1, 2, 15].map((n) => subnetCidr("10.40.0.0/16", n)),
      ["10.40.0.0/20", "10.40.16.0/20", "10.40.32.0/20", "10.40.240.0/20"],
    );
  });

  it("scopes Kafka permissions to the project's topics and groups, with no wildcard action", () => {
    const cluster = "arn:aws:kafka:us-east-1:111122223333:cluster/strata/abcd";
    assert.deepEqual(kafkaArns(cluster, "demo"), {
      cluster,
      topics: "arn:aws:kafka:us-east-1:111122223333:topic/strata/abcd/strata.demo.*",
      groups: "arn:aws:kafka:us-east-1:111122223333:group/strata/abcd/strata.demo.*",
    });
    for (const policy of [
      servingTaskPolicy(cluster, "demo"),
      consumerTaskPolicy(cluster, "demo"),
    ]) {
      assert.deepEqual(wildcardActions(policy), []);
    }
    assert.deepEqual(
      servingTaskPolicy(cluster, "demo")
        .Statement.filter((s) => s.Action.includes("kafka-cluster:ReadData"))
        .flatMap((s) => s.Resource),
      ["arn:aws:kafka:us-east-1:111122223333:topic/strata/abcd/strata.demo.registry"],
      "the serving tier reads the registry only",
    );
    assert.deepEqual(
      wildcardActions({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["s3:*", "*", "kafka-cluster:Connect"], Resource: ["x"] },
        ],
      }),
      ["s3:*", "*"],
    );
  });
});
