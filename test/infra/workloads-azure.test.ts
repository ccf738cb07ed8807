import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { ROLE_DEFINITIONS, WORKLOAD_ROLES } from "../../infra/azure/roles.js";
import { INGEST_METRICS_PORT, SERVE_ADMIN_PORT } from "../../infra/region-stack.js";
import { ofType, one, runStack, stackFileConfig, type StackRun } from "./pulumi-mocks.js";

const PREFIX = "strata-demo-westeurope";
const ROLE_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries({ ...ROLE_DEFINITIONS, ...WORKLOAD_ROLES }).map(([k, v]) => [v, k]),
);

/** The role assignments named `<prefix>-<part>-*`, as "role on scope" lines. */
function rolesOf(run: StackRun, part: string): string[] {
  return ofType(run, "azure-native:authorization:RoleAssignment")
    .filter((a) => a.name.startsWith(`${PREFIX}-${part}-`))
    .map((a) => {
      const role = ROLE_NAMES[String(a.inputs.roleDefinitionId).split("/").pop()!];
      return `${role} on ${String(a.inputs.scope)}`;
    })
    .sort();
}

function properties(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("\n").map((line) => {
      const eq = line.indexOf("=");
      return [line.slice(0, eq), line.slice(eq + 1)];
    }),
  );
}

function settings(run: StackRun, part: string): Record<string, string> {
  const site = one(run, "azure-native:web:WebApp", part).inputs;
  return Object.fromEntries(
    (site.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [
      s.name,
      s.value,
    ]),
  );
}

describe("the azure-westeurope stack's offline store, sink, backfill, drift and collectors", () => {
  let run: StackRun;

  before(async () => {
    run = await runStack("azure-westeurope", stackFileConfig("azure-westeurope"));
  });

  it("keeps the ADLS Gen2 warehouse private: hierarchical namespace, TLS 1.2, no public or key access", () => {
    const account = one(run, "azure-native:storage:StorageAccount", "warehouse").inputs;
    assert.equal(account.isHnsEnabled, true);
    assert.equal(account.minimumTlsVersion, "TLS1_2");
    assert.equal(account.enableHttpsTrafficOnly, true);
    assert.equal(account.allowBlobPublicAccess, false);
    assert.equal(account.allowSharedKeyAccess, false, "Entra ID only");
    assert.equal(account.publicNetworkAccess, "Disabled");
    assert.equal(one(run, "azure-native:storage:BlobContainer").inputs.publicAccess, "None");
    assert.equal(
      run.exports.offlineWarehouse,
      `abfss://offline@${PREFIX}-offline-warehouse.dfs.core.windows.net/warehouse`,
    );
    for (const hub of [
      "strata.demo.offline",
      "strata.demo.offline.control",
      "strata.demo.backfill",
    ])
      assert.ok(
        ofType(run, "azure-native:eventhub:EventHub").some((h) => h.inputs.eventHubName === hub),
        `the ${hub} hub (a Listen+Send rule cannot create it)`,
      );
  });

  it("has the consumer app project to the offline topic", () => {
    const ingest = one(run, "azure-native:app:ContainerApp", "-ingest").inputs.template
      .containers[0] as { env: { name: string; value?: string }[] };
    assert.equal(ingest.env.find((v) => v.name === "STRATA_OFFLINE")?.value, "on");
  });

  it("runs the sink as standalone Kafka Connect with an identity on the warehouse container only", () => {
    const connect = one(run, "azure-native:app:ContainerApp", "offline-connect").inputs;
    const container = connect.template.containers[0];
    assert.equal(container.image, "strataregistry.azurecr.io/strata-connect-iceberg:1.10.1");
    const env = Object.fromEntries(
      (container.env as { name: string; value?: string; secretRef?: string }[]).map((v) => [
        v.name,
        v.value ?? `secret:${v.secretRef}`,
      ]),
    );
    const sink = properties(env.CONNECT_SINK!);
    assert.equal(sink.name, "strata-demo-offline");
    assert.equal(sink.topics, "strata.demo.offline");
    assert.equal(sink["iceberg.catalog.type"], "hadoop");
    assert.equal(sink["iceberg.catalog.warehouse"], run.exports.offlineWarehouse);
    assert.equal(sink["iceberg.hadoop.fs.azure.account.auth.type"], "OAuth");
    const worker = properties(env.CONNECT_WORKER!);
    assert.equal(worker["security.protocol"], "SASL_SSL");
    assert.match(worker["sasl.jaas.config"]!, /password="\$\{env:KAFKA_CONNECTION\}"/);
    assert.equal(worker.listeners, "http://127.0.0.1:8083", "REST on loopback only");
    assert.equal(env.KAFKA_CONNECTION, "secret:kafka-connection");
    assert.deepEqual(rolesOf(run, "offline-sink"), [
      `keyVaultSecretsUser on ${PREFIX}-kafka-connection-id`,
      `storageBlobDataContributor on ${PREFIX}-offline-warehouse-id`,
    ]);
  });

  it("hosts the backfill HTTP function on the apps' environment, reading only the warehouse and its two secrets", () => {
    const site = one(run, "azure-native:web:WebApp", "backfill").inputs;
    assert.equal(site.kind, "functionapp,linux,container,azurecontainerapps");
    assert.equal(site.httpsOnly, true);
    assert.equal(site.managedEnvironmentId, `${PREFIX}-env-id`);
    assert.equal(
      site.siteConfig.linuxFxVersion,
      "DOCKER|strataregistry.azurecr.io/strata-functions-backfill:0.1.0",
    );
    const env = settings(run, "backfill");
    assert.equal(env.FUNCTIONS_EXTENSION_VERSION, "~4");
    assert.equal(env.STRATA_PROJECT, "demo");
    assert.equal(env.STRATA_REGION, "westeurope");
    assert.equal(env.STRATA_OFFLINE_WAREHOUSE, run.exports.offlineWarehouse);
    assert.equal(env.STRATA_REDIS_CLUSTER, env.REDIS_CLUSTER_NODES);
    assert.equal(env.STRATA_KAFKA_BROKERS, env.KAFKA_BROKERS);
    assert.match(
      env.KAFKA_SASL_PASSWORD!,
      /^@Microsoft\.KeyVault\(SecretUri=.*kafka-connection\)$/,
    );
    assert.match(env.REDIS_PASSWORD!, /^@Microsoft\.KeyVault\(SecretUri=.*redis-password\)$/);
    assert.equal(env.AzureWebJobsStorage__credential, "managedidentity");
    assert.equal(env.STRATA_API_KEYS, undefined);
    assert.deepEqual(rolesOf(run, "backfill"), [
      `keyVaultSecretsUser on ${PREFIX}-kafka-connection-id`,
      `keyVaultSecretsUser on ${PREFIX}-redis-password-id`,
      `storageBlobDataOwner on ${PREFIX}-fnhost-id`,
      `storageBlobDataReader on ${PREFIX}-offline-warehouse-id`,
    ]);
    assert.match(String(run.exports.backfillEndpoint), /^https:\/\//);
  });

  it("runs the drift timer with Monitoring Data Reader on the workspace and the Argo token's secret", () => {
    const env = settings(run, "drift");
    assert.equal(env.STRATA_DRIFT_SCHEDULE, "0 */15 * * * *", "NCRONTAB, seconds first");
    assert.equal(env.STRATA_PROMETHEUS_URL, `https://${PREFIX}-metrics.prometheus.example`);
    assert.equal(env.STRATA_PROMETHEUS_URL, run.exports.metricsEndpoint);
    assert.equal(
      env.STRATA_ARGO_TOKEN,
      `@Microsoft.KeyVault(SecretUri=https://vault.example/secrets/${PREFIX}-drift-argo-token)`,
    );
    assert.deepEqual(
      [env.STRATA_ARGO_URL, env.STRATA_ARGO_NAMESPACE, env.STRATA_ARGO_TEMPLATE],
      ["https://argo.ml.example.com", "ml", "retrain-model"],
    );
    assert.match(env.STRATA_DRIFT_CLAIM_REDIS_URL!, /^rediss:\/\/[^,]*:6380$/);
    assert.deepEqual(rolesOf(run, "drift"), [
      `keyVaultSecretsUser on ${PREFIX}-drift-argo-token-id`,
      `keyVaultSecretsUser on ${PREFIX}-redis-password-id`,
      `monitoringDataReader on ${PREFIX}-metrics-id`,
      `storageBlobDataOwner on ${PREFIX}-fnhost-id`,
    ]);
    assert.equal(
      one(run, "azure-native:keyvault:Secret", "argo-token").inputs.properties.value,
      "mock-argo-token",
    );
  });

  it("collects each app's metrics with a Prometheus agent sidecar writing through a collection rule", () => {
    const rule = one(run, "azure-native:monitor:DataCollectionRule").inputs;
    assert.deepEqual(rule.destinations.monitoringAccounts, [
      { name: "workspace", accountResourceId: `${PREFIX}-metrics-id` },
    ]);
    assert.deepEqual(rule.dataSources.prometheusForwarder[0].streams, [
      "Microsoft-PrometheusMetrics",
    ]);
    for (const [role, port] of [
      ["serve", SERVE_ADMIN_PORT],
      ["ingest", INGEST_METRICS_PORT],
    ] as const) {
      const sidecar = (
        one(run, "azure-native:app:ContainerApp", `-${role}`).inputs.template.containers as {
          name: string;
          env: { name: string; value: string }[];
        }[]
      ).find((c) => c.name === "metrics-collector")!;
      const prometheus = parse(sidecar.env[0]!.value) as Record<string, any>;
      assert.deepEqual(prometheus.scrape_configs[0].static_configs[0].targets, [
        `127.0.0.1:${port}`,
      ]);
      assert.match(
        prometheus.remote_write[0].url,
        /\/dataCollectionRules\/.*\/streams\/Microsoft-PrometheusMetrics\/api\/v1\/write\?api-version=/,
      );
      assert.equal(
        prometheus.remote_write[0].azuread.managed_identity.client_id,
        `${PREFIX}-apps-client-id`,
        "the apps' identity, which holds Monitoring Metrics Publisher on the rule",
      );
    }
    const publisher = ofType(run, "azure-native:authorization:RoleAssignment").filter((a) =>
      String(a.inputs.roleDefinitionId).endsWith(ROLE_DEFINITIONS.monitoringMetricsPublisher),
    );
    assert.deepEqual(
      publisher.map((a) => [a.name, a.inputs.scope]),
      [[`${PREFIX}-metrics`, `${PREFIX}-metrics-ingest-id`]],
      "remote-write is authorized on the collection rule, by the apps' identity only",
    );
  });
});
