import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig } from "../../infra/config.js";
import { eventBridgeSchedule, ncrontabSchedule } from "../../infra/peers.js";
import { toProperties } from "../../infra/offline/connect-properties.js";
import { offlineNamespace } from "../../infra/offline/names.js";
import { DEFAULT_DRIFT_SCHEDULE } from "../../infra/workloads-config.js";
import { runStack, stackFileConfig } from "./pulumi-mocks.js";

const stripped = (config: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^strata:/, ""), v]));

const aws = stackFileConfig("aws-us-east-1");
const azure = stackFileConfig("azure-westeurope");
const onprem = stackFileConfig("onprem-dc1");
const with_ = (base: Record<string, unknown>, key: string, patch: Record<string, unknown>) => ({
  ...base,
  [`strata:${key}`]: { ...(base[`strata:${key}`] as object), ...patch },
});

describe("strata:offline, strata:drift and strata:functions", () => {
  const invalid: [string, Record<string, unknown>, RegExp][] = [
    [
      "an AWS stack without the Connect plugin",
      with_(aws, "offline", { connectPlugin: undefined }),
      /strata:offline\.connectPlugin is missing; it must be an S3 object location, s3:\/\/<bucket>\/<key>/,
    ],
    [
      "a plugin that is not in S3",
      with_(aws, "offline", { connectPlugin: "https://example.com/plugin.zip" }),
      /strata:offline\.connectPlugin is "https:\/\/example\.com\/plugin\.zip"/,
    ],
    [
      "an AWS stack without the Lambda package",
      { ...aws, "strata:functions": undefined },
      /strata:functions\.lambdaPackage is missing/,
    ],
    [
      "an Azure stack without the Connect image",
      with_(azure, "offline", { connectImage: undefined }),
      /strata:offline\.connectImage is missing; it must be a Kafka Connect image/,
    ],
    [
      "an Azure stack without the drift function's image",
      with_(azure, "functions", { azureDriftImage: undefined }),
      /strata:functions\.azureDriftImage is missing/,
    ],
    [
      "an on-prem stack without a read-only warehouse credential",
      with_(onprem, "offline", {
        objectStore: {
          ...(onprem["strata:offline"] as { objectStore: object }).objectStore,
          readCredentialsSecret: undefined,
        },
      }),
      /strata:offline\.objectStore\.readCredentialsSecret is missing; it must be the name of a Secret .* that may only read the bucket/,
    ],
    [
      "an on-prem stack with the operator but no Prometheus to query",
      with_(onprem, "drift", { prometheusUrl: undefined }),
      /strata:drift\.prometheusUrl is missing; it must be an http\(s\):\/\/ URL/,
    ],
    [
      "a drift schedule EventBridge and NCRONTAB would read differently",
      with_(aws, "drift", { schedule: "0 0 1 * *" }),
      /strata:drift\.schedule is "0 0 1 \* \*"; it must be five-field cron/,
    ],
    [
      "a commit interval under 10 s",
      with_(aws, "offline", { commitIntervalMs: 500 }),
      /strata:offline\.commitIntervalMs is 500; it must be an integer from 10000/,
    ],
    [
      "no drift section",
      { ...aws, "strata:drift": undefined },
      /strata:drift is missing; it must be an object/,
    ],
    [
      "a claim Redis with credentials",
      with_(aws, "drift", { claimRedis: "rediss://user:pw@redis.example:6379" }),
      /strata:drift\.claimRedis is "rediss:\/\/user:pw@redis\.example:6379"/,
    ],
  ];
  for (const [what, config, message] of invalid) {
    it(`refuses ${what}, naming the key`, () => {
      assert.throws(() => parseStackConfig(stripped(config)), message);
    });
  }

  it("requires the shared claim Redis once a region has peers", () => {
    const peered = { ...aws, "strata:peers": stackFileConfig("aws-eu-west-1")["strata:peers"] };
    assert.throws(
      () => parseStackConfig(stripped(peered)),
      /strata:drift\.claimRedis is missing; it must be the one Redis all regions claim retraining in .*required with peers/,
    );
  });

  it("defaults the drift schedule to every 15 minutes, read alike by the three schedulers", () => {
    const parsed = parseStackConfig(stripped(with_(aws, "drift", { schedule: undefined })));
    assert.equal(parsed.drift.schedule, DEFAULT_DRIFT_SCHEDULE);
    assert.equal(DEFAULT_DRIFT_SCHEDULE, "*/15 * * * *");
    assert.equal(eventBridgeSchedule(parsed.drift.schedule), "cron(0/15 * * * ? *)");
    assert.equal(ncrontabSchedule(parsed.drift.schedule), "0 */15 * * * *");
    assert.equal(parsed.offline.commitIntervalMs, 60_000);
  });

  it("needs the Argo token as a secret before any resource is declared", async () => {
    await assert.rejects(
      runStack("no-argo-token", { ...aws, "strata:argoToken": undefined }),
      /strata:argoToken is missing; it must be a secret holding Argo Workflows' bearer token/,
    );
  });

  it("names the Iceberg namespace as the table-name contract does, lowercase for Glue", () => {
    assert.equal(offlineNamespace("demo"), "strata_demo");
    assert.equal(offlineNamespace("Fraud_Team"), "strata_fraud_team");
  });

  it("refuses a Connect property that would break the properties file", () => {
    assert.equal(toProperties({ a: "1", "b.c": "x=y" }), "a=1\nb.c=x=y");
    assert.throws(() => toProperties({ a: "1\nb=2" }), /property a holds a newline/);
  });
});
