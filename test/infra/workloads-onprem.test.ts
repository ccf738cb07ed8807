import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { BACKFILL_JOB_COMMAND, DRIFT_JOB_COMMAND } from "../../infra/workload-env.js";
import { DRIFT_LABELS, PROMETHEUS_LABELS } from "../../infra/kubernetes/labels.js";
import { REDIS_LABELS } from "../../infra/kubernetes/redis-cluster.js";
import { CLIENT_LABEL } from "../../infra/kubernetes/security.js";
import { SERVE_ADMIN_PORT } from "../../infra/region-stack.js";
import { ofType, one, runStack, stackFileConfig, type StackRun } from "./pulumi-mocks.js";

const CUSTOM = "kubernetes:kafka.strimzi.io/v1beta2:";
const NS = "strata-demo-dc1";

type Acl = {
  resource: { type: string; name?: string; patternType?: string };
  operations: string[];
};

/** A KafkaUser's ACLs as "operation type:name(pattern)" lines. */
function aclsOf(run: StackRun, nameEnds: string): string[] {
  const user = ofType(run, `${CUSTOM}KafkaUser`).find((u) => u.name.endsWith(nameEnds))!;
  return (user.inputs.spec.authorization.acls as Acl[])
    .flatMap((a) =>
      a.operations.map(
        (op) =>
          `${op} ${a.resource.type}:${a.resource.name ?? ""}(${a.resource.patternType ?? ""})`,
      ),
    )
    .sort();
}

const envOf = (container: { env: { name: string; value?: string; valueFrom?: any }[] }) =>
  Object.fromEntries(
    container.env.map((v) => [
      v.name,
      v.value ?? `secret:${v.valueFrom.secretKeyRef.name}/${v.valueFrom.secretKeyRef.key}`,
    ]),
  );

describe("the onprem-dc1 stack's offline sink, backfill template, drift CronJob and Prometheus", () => {
  let run: StackRun;
  let own: StackRun;
  const config = stackFileConfig("onprem-dc1");

  before(async () => {
    run = await runStack("onprem-dc1", config);
    // Without the Prometheus operator the region runs its own Prometheus.
    own = await runStack("onprem-dc1", {
      ...config,
      "strata:kubernetes": {
        ...(config["strata:kubernetes"] as object),
        prometheusOperator: false,
      },
    });
  });

  it("runs the Iceberg sink as Strimzi KafkaConnect + KafkaConnector on the site's object store", () => {
    const connect = one(run, `${CUSTOM}KafkaConnect`).inputs;
    assert.equal(connect.metadata.annotations["strimzi.io/use-connector-resources"], "true");
    assert.equal(connect.spec.image, "registry.corp.example/strata-connect-iceberg:1.10.1");
    assert.equal(connect.spec.authentication.type, "tls");
    assert.equal(
      connect.spec.authentication.certificateAndKey.secretName,
      "strata-kafka-offline-sink",
    );
    assert.deepEqual(connect.spec.template.pod.metadata.labels, CLIENT_LABEL);
    assert.deepEqual(envOf(connect.spec.template.connectContainer), {
      AWS_ACCESS_KEY_ID: "secret:strata-warehouse-writer/accessKeyId",
      AWS_SECRET_ACCESS_KEY: "secret:strata-warehouse-writer/secretAccessKey",
      AWS_REGION: "us-east-1",
    });
    const connector = one(run, `${CUSTOM}KafkaConnector`).inputs;
    assert.equal(connector.metadata.name, "strata-demo-offline");
    assert.equal(connector.metadata.labels["strimzi.io/cluster"], connect.metadata.name);
    assert.equal(connector.spec.class, "org.apache.iceberg.connect.IcebergSinkConnector");
    assert.equal(connector.spec.config.topics, "strata.demo.offline");
    assert.equal(
      connector.spec.config["iceberg.catalog.warehouse"],
      "s3a://strata-warehouse/warehouse",
    );
    assert.equal(
      connector.spec.config["iceberg.hadoop.fs.s3a.endpoint"],
      "https://s3.dc1.corp.example",
    );
    assert.equal(run.exports.offlineWarehouse, "s3a://strata-warehouse/warehouse");
    assert.equal(run.exports.offlineConnector, "strata-demo-offline");
  });

  it("lets the consumer project to the offline topic (and no other new one)", () => {
    const acls = aclsOf(run, "strata-kafka-ingest");
    assert.deepEqual(
      acls.filter((a) => a.startsWith("Write ")),
      ["Write topic:strata.demo.dlq(literal)", "Write topic:strata.demo.offline(literal)"],
    );
    assert.ok(acls.includes("Describe group:connect-strata-demo-offline(literal)"));
    assert.ok(acls.includes("IdempotentWrite cluster:()"));
    const ingest = one(run, "kubernetes:apps/v1:Deployment", "-ingest").inputs.spec.template.spec
      .containers[0];
    assert.equal(envOf(ingest).STRATA_OFFLINE, "on");
  });

  it("limits the sink's KafkaUser to its topics and groups", () => {
    const rw = (topic: string) =>
      ["Create", "Describe", "DescribeConfigs", "Read", "Write"].map(
        (op) => `${op} topic:${topic}(literal)`,
      );
    assert.deepEqual(
      aclsOf(run, "offline-user"),
      [
        "Describe topic:strata.demo.offline(literal)",
        "Read topic:strata.demo.offline(literal)",
        ...rw("strata.demo.offline.control"),
        ...rw("strata.demo.connect-configs"),
        ...rw("strata.demo.connect-offsets"),
        ...rw("strata.demo.connect-status"),
        ...["Describe", "Read"].flatMap((op) => [
          `${op} group:strata.demo.connect(literal)`,
          `${op} group:connect-strata-demo-offline(literal)`,
          `${op} group:strata.demo.offline.control(prefix)`,
        ]),
        "Describe transactionalId:*(literal)",
        "Write transactionalId:*(literal)",
        "Describe cluster:()",
        "IdempotentWrite cluster:()",
      ].sort(),
    );
  });

  it("holds the backfill Job template in a ConfigMap, with a read-only warehouse credential", () => {
    const map = one(run, "kubernetes:core/v1:ConfigMap", "backfill").inputs;
    const job = JSON.parse(map.data["job.json"]);
    assert.equal(job.kind, "Job");
    assert.equal(job.metadata.generateName, "strata-backfill-");
    assert.equal(job.metadata.namespace, NS);
    assert.equal(job.spec.backoffLimit, 0);
    const pod = job.spec.template.spec;
    assert.equal(pod.restartPolicy, "Never");
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    const container = pod.containers[0];
    assert.deepEqual(container.command, BACKFILL_JOB_COMMAND);
    assert.deepEqual(container.args, [], "each run appends its own arguments");
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    const env = envOf(container);
    assert.equal(env.STRATA_PROJECT, "demo");
    assert.equal(env.STRATA_REGION, "dc1");
    assert.equal(env.STRATA_OFFLINE_WAREHOUSE, "s3a://strata-warehouse/warehouse");
    assert.equal(env.STRATA_OFFLINE_S3_ENDPOINT, "https://s3.dc1.corp.example");
    assert.equal(env.STRATA_REDIS_CLUSTER, env.REDIS_CLUSTER_NODES);
    assert.equal(env.STRATA_KAFKA_BROKERS, env.KAFKA_BROKERS);
    assert.equal(env.AWS_ACCESS_KEY_ID, "secret:strata-warehouse-reader/accessKeyId");
    assert.equal(env.AWS_SECRET_ACCESS_KEY, "secret:strata-warehouse-reader/secretAccessKey");
    assert.equal(env.STRATA_API_KEYS, undefined, "no API keys");
    assert.equal(env.KAFKA_TLS_CERT_FILE, "/etc/strata/kafka-user/user.crt");
    assert.equal(
      (pod.volumes as { name: string; secret: { secretName: string } }[]).find(
        (v) => v.name === "kafka-user",
      )!.secret.secretName,
      "strata-kafka-backfill",
    );
    assert.deepEqual(job.spec.template.metadata.labels["strata.io/client"], "true");
    assert.equal(run.exports.backfillEndpoint, `configmap/${NS}/${NS}-backfill`);
  });

  it("limits the backfill KafkaUser to its topic, the changelog and registry reads, its groups", () => {
    assert.deepEqual(
      aclsOf(run, "backfill-user"),
      [
        ...["Create", "Describe", "DescribeConfigs", "Read", "Write"].map(
          (op) => `${op} topic:strata.demo.backfill(literal)`,
        ),
        "Describe topic:strata.demo.changelog(literal)",
        "Read topic:strata.demo.changelog(literal)",
        "Describe topic:strata.demo.registry(literal)",
        "Read topic:strata.demo.registry(literal)",
        ...["Delete", "Describe", "Read"].flatMap((op) => [
          `${op} group:strata.demo.backfill(prefix)`,
          `${op} group:strata.demo.registry-reader.(prefix)`,
        ]),
        "Describe group:strata.demo.dc1.apply(literal)",
        "Describe cluster:()",
        "IdempotentWrite cluster:()",
      ].sort(),
    );
  });

  it("runs drift as a CronJob under its own account, the Argo token from a Secret", () => {
    const cron = one(run, "kubernetes:batch/v1:CronJob", "drift").inputs;
    assert.equal(cron.spec.schedule, "*/15 * * * *");
    assert.equal(cron.spec.timeZone, "Etc/UTC");
    assert.equal(cron.spec.concurrencyPolicy, "Forbid");
    const pod = cron.spec.jobTemplate.spec.template.spec;
    assert.equal(pod.serviceAccountName, `${NS}-drift`);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(cron.spec.jobTemplate.spec.template.metadata.labels, DRIFT_LABELS);
    const container = pod.containers[0];
    assert.deepEqual(container.command, DRIFT_JOB_COMMAND);
    const env = envOf(container);
    assert.equal(env.STRATA_ARGO_TOKEN, `secret:${NS}-drift-argo-token/token`);
    assert.equal(env.STRATA_PROMETHEUS_URL, "http://prometheus-operated.monitoring.svc:9090");
    assert.equal(env.STRATA_ARGO_URL, "https://argo-server.argo.svc:2746");
    assert.match(env.STRATA_DRIFT_CLAIM_REDIS_URL!, /^rediss:\/\/[^,]*:6379$/);
    assert.equal(env.REDIS_PASSWORD, `secret:${NS}-redis-password/password`);
    assert.equal(
      one(run, "kubernetes:core/v1:Secret", "argo-token").inputs.stringData.token,
      "mock-argo-token",
    );
    assert.equal(run.exports.driftSchedule, "*/15 * * * *");
  });

  it("lets the drift pods reach only Prometheus, Argo, Redis and DNS", () => {
    const egress = (r: StackRun) =>
      one(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "drift-egress").inputs.spec;
    const operator = egress(run);
    assert.deepEqual(operator.podSelector.matchLabels, DRIFT_LABELS);
    assert.deepEqual(operator.policyTypes, ["Egress"]);
    const ns = (name: string) => ({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
    });
    const dns = {
      to: [ns("kube-system")],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    };
    const redis = {
      to: [{ podSelector: { matchLabels: REDIS_LABELS } }],
      ports: [{ protocol: "TCP", port: 6379 }],
    };
    const argo = { to: [ns("argo")], ports: [{ protocol: "TCP", port: 2746 }] };
    assert.deepEqual(operator.egress, [
      { to: [ns("monitoring")], ports: [{ protocol: "TCP", port: 9090 }] },
      argo,
      redis,
      dns,
    ]);
    assert.deepEqual(egress(own).egress, [
      {
        to: [{ podSelector: { matchLabels: PROMETHEUS_LABELS } }],
        ports: [{ protocol: "TCP", port: 9090 }],
      },
      argo,
      redis,
      dns,
    ]);
    // Redis admits the drift pods (its claim), which carry no Kafka client label.
    const redisPolicy = one(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "-redis").inputs;
    assert.ok(
      (redisPolicy.spec.ingress[0].from as { podSelector?: { matchLabels: object } }[]).some(
        (f) => JSON.stringify(f.podSelector?.matchLabels) === JSON.stringify(DRIFT_LABELS),
      ),
    );
  });

  it("runs its own Prometheus without the operator: pods-only RBAC, scraping the admin ports", () => {
    assert.equal(ofType(run, "kubernetes:rbac.authorization.k8s.io/v1:Role").length, 0);
    const role = one(own, "kubernetes:rbac.authorization.k8s.io/v1:Role", "prometheus").inputs;
    assert.deepEqual(role.rules, [
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
    ]);
    assert.equal(
      ofType(own, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole").length,
      0,
      "nothing cluster-wide",
    );
    const deployment = one(own, "kubernetes:apps/v1:Deployment", "prometheus").inputs;
    const container = deployment.spec.template.spec.containers[0];
    assert.equal(container.image, "quay.io/prometheus/prometheus:v2.53.4");
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true);
    const scrape = one(own, "kubernetes:core/v1:ConfigMap", "prometheus").inputs.data[
      "prometheus.yml"
    ];
    assert.match(scrape, /namespaces:\n\s+names:\n\s+- strata-demo-dc1/);
    assert.match(
      String(own.exports.metricsEndpoint),
      /^http:\/\/strata-demo-dc1-prometheus\..*:9090$/,
    );
    const serve = one(own, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "-serve").inputs.spec;
    assert.deepEqual(serve.ingress[1], {
      from: [
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
        { podSelector: { matchLabels: PROMETHEUS_LABELS } },
      ],
      ports: [{ port: SERVE_ADMIN_PORT }],
    });
  });
});
