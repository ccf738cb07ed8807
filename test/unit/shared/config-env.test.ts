import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadIngestConfig } from "../../../functions/ingest/config.js";
import { kafkaConnection } from "../../../shared/changelog/kafka-client.js";
import { EnvReader } from "../../../shared/config/env.js";
import { isStrataError } from "../../../shared/errors.js";

const badConfig = (variable: string) => (e: unknown) =>
  isStrataError(e, "STRATA_E_BAD_CONFIG") && e.details.variable === variable;

describe("environment configuration of Redis and Kafka access", () => {
  it("reads a TLS Redis Cluster with credentials, as the infrastructure sets it", () => {
    const redis = new EnvReader({
      REDIS_CLUSTER_NODES: "cfg.cache.example:6379",
      REDIS_TLS: "on",
      REDIS_TLS_CA_FILE: "/etc/ca.crt",
      REDIS_USERNAME: "strata",
      REDIS_PASSWORD: "secret",
    }).redis();
    assert.deepEqual(redis, {
      clusterNodes: [{ host: "cfg.cache.example", port: 6379 }],
      tls: { caFile: "/etc/ca.crt" },
      username: "strata",
      password: "secret",
    });
    assert.deepEqual(new EnvReader({ REDIS_URL: "rediss://h:6380" }).redis().tls, {
      caFile: undefined,
    });
    assert.equal(new EnvReader({ REDIS_URL: "redis://h:6379" }).redis().tls, undefined);
    assert.throws(
      () => new EnvReader({ REDIS_URL: "redis://h:1", REDIS_TLS: "yes" }).redis(),
      badConfig("REDIS_TLS"),
    );
  });

  it("reads Kafka with TLS and SASL, and refuses a mechanism it cannot speak", () => {
    const kafka = new EnvReader({
      KAFKA_BROKERS: "a:9093,b:9093",
      KAFKA_TLS: "on",
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME: "$ConnectionString",
      KAFKA_SASL_PASSWORD: "Endpoint=sb://x/",
    }).kafka(true);
    assert.deepEqual(kafka, {
      brokers: ["a:9093", "b:9093"],
      tls: { caFile: undefined, certFile: undefined, keyFile: undefined },
      sasl: { mechanism: "plain", username: "$ConnectionString", password: "Endpoint=sb://x/" },
    });
    assert.equal(new EnvReader({}).kafka(false), undefined);
    assert.throws(() => new EnvReader({}).kafka(true), badConfig("KAFKA_BROKERS"));
    assert.throws(
      () => new EnvReader({ KAFKA_BROKERS: "a:1", KAFKA_SASL_MECHANISM: "gssapi" }).kafka(true),
      badConfig("KAFKA_SASL_MECHANISM"),
    );
    assert.throws(
      () => new EnvReader({ KAFKA_BROKERS: "a:1", KAFKA_SASL_MECHANISM: "plain" }).kafka(true),
      badConfig("KAFKA_SASL_USERNAME"),
    );
  });

  it("reads MSK IAM: TLS on by default and never off, the AWS region required", () => {
    const iam = { KAFKA_BROKERS: "b-1.msk.example:9098", KAFKA_SASL_MECHANISM: "aws-msk-iam" };
    assert.deepEqual(new EnvReader({ ...iam, AWS_REGION: "us-east-1" }).kafka(true), {
      brokers: ["b-1.msk.example:9098"],
      tls: { caFile: undefined, certFile: undefined, keyFile: undefined },
      sasl: { mechanism: "aws-msk-iam", region: "us-east-1" },
    });
    assert.throws(
      () => new EnvReader({ ...iam, AWS_REGION: "us-east-1", KAFKA_TLS: "off" }).kafka(true),
      badConfig("KAFKA_TLS"),
    );
    assert.throws(() => new EnvReader(iam).kafka(true), badConfig("AWS_REGION"));
    assert.throws(
      () => new EnvReader({ ...iam, AWS_REGION: "us east 1" }).kafka(true),
      badConfig("AWS_REGION"),
    );
  });

  it("connects to MSK IAM with OAUTHBEARER tokens over TLS", () => {
    const connection = kafkaConnection(
      { brokers: ["b-1:9098"], tls: {}, sasl: { mechanism: "aws-msk-iam", region: "us-east-1" } },
      "test",
    );
    assert.ok(connection.ssl, "TLS");
    const sasl = connection.sasl as { mechanism: string; oauthBearerProvider: unknown };
    assert.equal(sasl.mechanism, "oauthbearer");
    assert.equal(typeof sasl.oauthBearerProvider, "function");
  });
});

describe("STRATA_PEER_REGIONS: the regions whose replicated changelogs this region applies", () => {
  const peers = (env: Record<string, string>) => new EnvReader(env).peerRegions();

  it("reads a comma list of region names, spaces around items allowed", () => {
    assert.deepEqual(peers({ STRATA_REGION: "b", STRATA_PEER_REGIONS: "a, c" }), ["a", "c"]);
    assert.deepEqual(
      peers({ STRATA_REGION: "eu-west-1", STRATA_PEER_REGIONS: "us-east-1,onprem-dc1" }),
      ["us-east-1", "onprem-dc1"],
    );
  });

  it("is empty when unset or empty: a lone region, as before", () => {
    assert.deepEqual(peers({ STRATA_REGION: "b" }), []);
    assert.deepEqual(peers({ STRATA_REGION: "b", STRATA_PEER_REGIONS: "" }), []);
    assert.deepEqual(peers({ STRATA_REGION: "b", STRATA_PEER_REGIONS: "  " }), []);
  });

  it("refuses names a region cannot have, an empty item, this region and a repeated peer", () => {
    for (const [value, why] of [
      ["a,B", /lowercase letters/],
      ["a,c.d", /lowercase letters/],
      ["a,,c", /lowercase letters/],
      ["a,c,", /lowercase letters/],
      ["x".repeat(64), /lowercase letters/],
      ["a,b", /"b" is this region/],
      ["a,c,a", /"a" is named twice/],
    ] as const) {
      assert.throws(
        () => peers({ STRATA_REGION: "b", STRATA_PEER_REGIONS: value }),
        (e: unknown) => badConfig("STRATA_PEER_REGIONS")(e) && why.test((e as Error).message),
        value,
      );
    }
    // The default region name counts as this region too.
    assert.throws(() => peers({ STRATA_PEER_REGIONS: "local" }), badConfig("STRATA_PEER_REGIONS"));
  });

  it("reaches the consumer's configuration", () => {
    const config = loadIngestConfig({
      STRATA_REPO: "repo.ts",
      REDIS_URL: "redis://h:6379",
      KAFKA_BROKERS: "k:9092",
      STRATA_REGION: "b",
      STRATA_PEER_REGIONS: "a,c",
    });
    assert.deepEqual(config.peerRegions, ["a", "c"]);
    assert.deepEqual(
      loadIngestConfig({ STRATA_REPO: "r", REDIS_URL: "redis://h:1", KAFKA_BROKERS: "k:1" })
        .peerRegions,
      [],
    );
  });
});
