import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import { COLLECTOR_IMAGES } from "../../infra/config.js";
import { BROAD_ROLES, ROLE_DEFINITIONS } from "../../infra/azure/roles.js";
import {
  INGEST_METRICS_PORT,
  REGION_OUTPUT_NAMES,
  SERVE_ADMIN_PORT,
  SERVE_PORT,
} from "../../infra/region-stack.js";
import { repoRoot } from "../../dev/stack/paths.js";
import {
  countByType,
  ofType,
  one,
  runStack,
  stackFileConfig,
  type StackRun,
} from "./pulumi-mocks.js";

describe("the azure-westeurope example stack under Pulumi mocks", () => {
  let run: StackRun;
  const config = stackFileConfig("azure-westeurope");
  const sizes = config as {
    "strata:redis": { shards: number; replicasPerShard: number };
    "strata:kafka": { partitions: number; throughputUnits: number };
    "strata:serving": {
      image: string;
      minReplicas: number;
      maxReplicas: number;
      consumerReplicas: number;
    };
  };

  before(async () => {
    const started = performance.now();
    run = await runStack("azure-westeurope", config);
    console.log(
      `azure-westeurope: ${run.resources.length} resources in ${Math.round(performance.now() - started)} ms`,
      countByType(run),
    );
  });

  it("exports exactly the region outputs", () => {
    assert.deepEqual(Object.keys(run.exports).sort(), [...REGION_OUTPUT_NAMES].sort());
    assert.equal(run.exports.cloud, "azure");
    assert.match(String(run.exports.servingUrl), /^https:\/\/.+/);
    assert.match(String(run.exports.redisEndpoint), /:6380$/);
    assert.match(String(run.exports.kafkaBootstrap), /\.servicebus\.windows\.net:9093$/);
  });

  it("declares the configured sizes", () => {
    const redis = one(run, "azure-native:redis:Redis");
    assert.equal(redis.inputs.shardCount, sizes["strata:redis"].shards);
    assert.equal(redis.inputs.replicasPerPrimary, sizes["strata:redis"].replicasPerShard);
    assert.equal(redis.inputs.sku.name, "Premium");
    const namespace = one(run, "azure-native:eventhub:Namespace");
    assert.equal(
      namespace.inputs.sku.name,
      "Premium",
      "log compaction needs Premium (or Dedicated)",
    );
    assert.equal(namespace.inputs.sku.capacity, sizes["strata:kafka"].throughputUnits);
    const changelog = one(run, "azure-native:eventhub:EventHub", "changelog");
    assert.equal(changelog.inputs.eventHubName, "strata.demo.changelog");
    assert.equal(changelog.inputs.partitionCount, sizes["strata:kafka"].partitions);
    assert.equal(changelog.inputs.retentionDescription.cleanupPolicy, "Compact");
    assert.equal(
      one(run, "azure-native:eventhub:EventHub", "dlq").inputs.retentionDescription.cleanupPolicy,
      "Delete",
    );
    const apps = ofType(run, "azure-native:app:ContainerApp");
    assert.deepEqual(apps.map((a) => a.name.replace(/^strata-demo-westeurope-/, "")).sort(), [
      "ingest",
      "offline-connect",
      "serve",
    ]);
    const serve = one(run, "azure-native:app:ContainerApp", "serve");
    assert.deepEqual(
      [serve.inputs.template.scale.minReplicas, serve.inputs.template.scale.maxReplicas],
      [sizes["strata:serving"].minReplicas, sizes["strata:serving"].maxReplicas],
    );
    assert.equal(serve.inputs.template.scale.rules[0].custom.type, "cpu");
    const ingest = one(run, "azure-native:app:ContainerApp", "ingest");
    assert.equal(
      ingest.inputs.template.scale.minReplicas,
      sizes["strata:serving"].consumerReplicas,
    );
    assert.equal(ingest.inputs.configuration.ingress, undefined, "the consumer takes no traffic");
    for (const type of [
      "resources:ResourceGroup",
      "network:VirtualNetwork",
      "keyvault:Vault",
      "operationalinsights:Workspace",
      "monitor:AzureMonitorWorkspace",
      "app:ManagedEnvironment",
    ]) {
      assert.equal(ofType(run, `azure-native:${type}`).length, 1, type);
    }
  });

  it("keeps Redis and Event Hubs TLS-only and private", () => {
    const redis = one(run, "azure-native:redis:Redis");
    assert.equal(redis.inputs.enableNonSslPort, false);
    assert.equal(redis.inputs.minimumTlsVersion, "1.2");
    assert.equal(redis.inputs.publicNetworkAccess, "Disabled");
    const namespace = one(run, "azure-native:eventhub:Namespace");
    assert.equal(namespace.inputs.minimumTlsVersion, "1.2");
    assert.equal(namespace.inputs.publicNetworkAccess, "Disabled");
    const vault = one(run, "azure-native:keyvault:Vault");
    assert.equal(vault.inputs.properties.publicNetworkAccess, "Disabled");
    assert.equal(vault.inputs.properties.enableRbacAuthorization, true);
    const endpoints = ofType(run, "azure-native:network:PrivateEndpoint");
    assert.deepEqual(
      endpoints.map((e) => e.inputs.privateLinkServiceConnections[0].groupIds[0]).sort(),
      ["blob", "dfs", "namespace", "redisCache", "vault"],
    );
    assert.equal(
      one(run, "azure-native:app:ManagedEnvironment").inputs.vnetConfiguration.internal,
      true,
    );
    assert.equal(
      one(run, "azure-native:app:ContainerApp", "serve").inputs.configuration.ingress.allowInsecure,
      false,
    );
    const rule = one(run, "azure-native:eventhub:NamespaceAuthorizationRule");
    assert.deepEqual(rule.inputs.rights, ["Listen", "Send"], "no Manage right");
  });

  it("declares the registry hub, which the apps' Listen+Send rule could not create", () => {
    // Creating a topic through the Kafka endpoint takes Manage: without this hub neither
    // `strata apply` nor a follower with the apps' connection string could create it.
    const registry = one(run, "azure-native:eventhub:EventHub", "registry");
    assert.equal(registry.inputs.eventHubName, "strata.demo.registry");
    assert.equal(registry.inputs.partitionCount, 1, "a registry log's order is its offset order");
    assert.equal(registry.inputs.retentionDescription.cleanupPolicy, "Compact");
    assert.deepEqual(
      ofType(run, "azure-native:eventhub:NamespaceAuthorizationRule").map((r) => r.inputs.rights),
      [["Listen", "Send"]],
    );
  });

  it("gives the apps' managed identity only the roles it needs, each on one resource", () => {
    // The sink's and the functions' identities have tests of their own (workloads-azure).
    const assignments = ofType(run, "azure-native:authorization:RoleAssignment").filter(
      (a) => !/-(offline|backfill|drift)-/.test(a.name),
    );
    const roles = assignments.map((a) => String(a.inputs.roleDefinitionId).split("/").pop());
    assert.deepEqual(roles.sort(), Object.values(ROLE_DEFINITIONS).sort());
    for (const a of assignments) {
      assert.ok(!BROAD_ROLES.has(String(a.inputs.roleDefinitionId).split("/").pop() ?? ""));
      assert.doesNotMatch(
        String(a.inputs.scope),
        /^\/subscriptions\/[^/]+\/?$/,
        "never the whole subscription",
      );
    }
  });

  it("runs the Strata image, whose Dockerfile makes it non-root", () => {
    const dockerfile = readFileSync(path.join(repoRoot, "functions/serve/Dockerfile"), "utf8");
    assert.match(dockerfile, /^USER node$/m);
    for (const suffix of ["serve", "ingest"]) {
      const containers = one(run, "azure-native:app:ContainerApp", suffix).inputs.template
        .containers as { name: string; image: string }[];
      assert.deepEqual(
        containers.map((c) => [c.name, c.image]),
        [
          [suffix, sizes["strata:serving"].image],
          ["metrics-collector", COLLECTOR_IMAGES.azure],
        ],
      );
    }
  });

  it("takes ingress on the feature port only, and probes the admin ports", () => {
    const serve = one(run, "azure-native:app:ContainerApp", "serve");
    const ingress = serve.inputs.configuration.ingress;
    assert.equal(ingress.targetPort, SERVE_PORT);
    assert.equal(ingress.exposedPort, undefined);
    assert.equal(ingress.additionalPortMappings, undefined, "no other port is exposed");
    const probes = serve.inputs.template.containers[0].probes as {
      type: string;
      httpGet: { path: string; port: number };
    }[];
    assert.deepEqual(
      probes.map((p) => [p.type, p.httpGet.path, p.httpGet.port]),
      [
        ["Liveness", "/health", SERVE_ADMIN_PORT],
        ["Readiness", "/ready", SERVE_ADMIN_PORT],
      ],
    );
    const ingest = one(run, "azure-native:app:ContainerApp", "ingest");
    assert.equal(ingest.inputs.configuration.ingress, undefined, "the consumer takes no traffic");
    for (const p of ingest.inputs.template.containers[0].probes as {
      httpGet: { port: number };
    }[]) {
      assert.equal(p.httpGet.port, INGEST_METRICS_PORT);
    }
  });
});
