import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { INGEST_NODE_FLAGS } from "../../functions/ingest/node-flags.js";
import { ENVOY_LABELS } from "../../infra/kubernetes/envoy.js";
import {
  FEATURE_PATHS,
  INGEST_METRICS_PORT,
  REGION_OUTPUT_NAMES,
  SERVE_ADMIN_PORT,
  SERVE_PORT,
} from "../../infra/region-stack.js";
import {
  countByType,
  ofType,
  one,
  runStack,
  stackFileConfig,
  type DeclaredResource,
  type StackRun,
} from "./pulumi-mocks.js";

const CUSTOM = "kubernetes:kafka.strimzi.io/v1beta2:";

function podSpecs(run: StackRun): { owner: string; spec: any }[] {
  return [
    ...ofType(run, "kubernetes:apps/v1:Deployment"),
    ...ofType(run, "kubernetes:apps/v1:StatefulSet"),
    ...ofType(run, "kubernetes:batch/v1:Job"),
  ]
    .map((r: DeclaredResource) => ({
      owner: `${r.type} ${r.name}`,
      spec: r.inputs.spec.template.spec,
    }))
    .concat(
      ofType(run, "kubernetes:batch/v1:CronJob").map((r) => ({
        owner: `${r.type} ${r.name}`,
        spec: r.inputs.spec.jobTemplate.spec.template.spec,
      })),
    );
}

describe("the onprem-dc1 example stack under Pulumi mocks", () => {
  let run: StackRun;
  const config = stackFileConfig("onprem-dc1");
  const sizes = config as {
    "strata:redis": { shards: number; replicasPerShard: number };
    "strata:kafka": { partitions: number; brokers: number };
    "strata:serving": { minReplicas: number; maxReplicas: number; consumerReplicas: number };
  };

  before(async () => {
    const started = performance.now();
    run = await runStack("onprem-dc1", config);
    console.log(
      `onprem-dc1: ${run.resources.length} resources in ${Math.round(performance.now() - started)} ms`,
      countByType(run),
    );
  });

  it("exports exactly the region outputs", () => {
    assert.deepEqual(Object.keys(run.exports).sort(), [...REGION_OUTPUT_NAMES].sort());
    assert.equal(run.exports.cloud, "kubernetes");
    assert.match(String(run.exports.servingUrl), /^https:\/\//);
    assert.match(String(run.exports.kafkaBootstrap), /-kafka-bootstrap\..+:9093$/);
  });

  it("declares the configured sizes", () => {
    const redis = one(run, "kubernetes:apps/v1:StatefulSet");
    const { shards, replicasPerShard } = sizes["strata:redis"];
    assert.equal(redis.inputs.spec.replicas, shards * (1 + replicasPerShard));
    assert.match(
      one(run, "kubernetes:batch/v1:Job").inputs.spec.template.spec.containers[0].args[0],
      new RegExp(`--cluster-replicas ${replicasPerShard}`),
    );
    assert.equal(
      one(run, `${CUSTOM}KafkaNodePool`).inputs.spec.replicas,
      sizes["strata:kafka"].brokers,
    );
    assert.deepEqual(one(run, `${CUSTOM}KafkaNodePool`).inputs.spec.roles, [
      "controller",
      "broker",
    ]);
    const kafka = one(run, `${CUSTOM}Kafka`);
    assert.equal(kafka.inputs.metadata.annotations["strimzi.io/kraft"], "enabled");
    const changelog = ofType(run, `${CUSTOM}KafkaTopic`).find(
      (t) => t.inputs.spec.topicName === "strata.demo.changelog",
    )!;
    assert.equal(changelog.inputs.spec.partitions, sizes["strata:kafka"].partitions);
    assert.equal(changelog.inputs.spec.config["cleanup.policy"], "compact");
    const hpa = one(run, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
    assert.deepEqual(
      [hpa.inputs.spec.minReplicas, hpa.inputs.spec.maxReplicas],
      [sizes["strata:serving"].minReplicas, sizes["strata:serving"].maxReplicas],
    );
    assert.equal(
      ofType(run, "kubernetes:policy/v1:PodDisruptionBudget").length,
      2,
      "Redis and the serving tier",
    );
    const deployments = ofType(run, "kubernetes:apps/v1:Deployment");
    assert.deepEqual(
      deployments.map((d) => d.inputs.metadata.labels["app.kubernetes.io/name"]).sort(),
      ["strata-envoy", "strata-ingest", "strata-serve"],
    );
    const ingest = deployments.find((d) => d.name.endsWith("-ingest"))!;
    assert.equal(ingest.inputs.spec.replicas, sizes["strata:serving"].consumerReplicas);
    assert.deepEqual(ingest.inputs.spec.template.spec.containers[0].command, [
      "node",
      ...INGEST_NODE_FLAGS,
      "dist/functions/ingest/main.js",
    ]);
    assert.equal(
      ofType(run, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor").length,
      2,
      "prometheusOperator: true",
    );
    assert.equal(
      ofType(run, "kubernetes:helm.sh/v3:Release").length,
      0,
      "installStrimzi: false assumes the operator",
    );
    assert.equal(redis.inputs.spec.volumeClaimTemplates[0].spec.storageClassName, "fast-ssd");
  });

  it("speaks TLS only to Redis and Kafka, with authentication", () => {
    const conf = one(run, "kubernetes:core/v1:ConfigMap", "redis-conf").inputs.data[
      "redis.conf"
    ] as string;
    assert.match(conf, /^port 0$/m, "no plaintext port");
    assert.match(conf, /^tls-port 6379$/m);
    assert.match(conf, /^tls-cluster yes$/m);
    assert.match(conf, /^tls-replication yes$/m);
    assert.match(
      one(run, "kubernetes:apps/v1:StatefulSet").inputs.spec.template.spec.containers[0].command[2],
      /--requirepass/,
    );
    const listeners = one(run, `${CUSTOM}Kafka`).inputs.spec.kafka.listeners as {
      tls: boolean;
      type: string;
      authentication: { type: string };
    }[];
    for (const l of listeners) {
      assert.equal(l.tls, true);
      assert.equal(l.type, "internal");
      assert.equal(l.authentication.type, "tls");
    }
    assert.deepEqual(
      ofType(run, `${CUSTOM}KafkaUser`)
        .map((u) => u.name.replace(/^strata-demo-dc1-/, ""))
        .sort(),
      ["backfill-user", "offline-user", "strata-kafka-ingest", "strata-kafka-serve"],
    );
    const ingestUser = ofType(run, `${CUSTOM}KafkaUser`).find((u) => u.name.endsWith("-ingest"))!;
    const writes = (
      ingestUser.inputs.spec.authorization.acls as {
        resource: { name: string; patternType: string };
        operations: string[];
      }[]
    ).filter((a) => a.operations.includes("Write"));
    assert.deepEqual(
      writes.map((a) => a.resource),
      [
        { type: "topic", name: "strata.demo.dlq", patternType: "literal" },
        { type: "topic", name: "strata.demo.offline", patternType: "literal" },
      ],
      "the consumer writes the dead-letter topic and its offline projection only",
    );
  });

  it("exposes only Envoy, and lets only Strata's pods reach Redis and Kafka", () => {
    const exposed = ofType(run, "kubernetes:core/v1:Service").filter((s) =>
      ["LoadBalancer", "NodePort"].includes(s.inputs.spec.type),
    );
    assert.deepEqual(
      exposed.map((s) => s.inputs.metadata.labels["app.kubernetes.io/name"]),
      ["strata-envoy"],
    );
    const policies = ofType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    const deny = policies.find((p) => p.name.endsWith("default-deny"))!;
    assert.deepEqual([deny.inputs.spec.podSelector, deny.inputs.spec.ingress], [{}, []]);
    const redis = policies.find((p) => p.name.endsWith("-redis"))!;
    assert.deepEqual(redis.inputs.spec.podSelector.matchLabels, {
      "app.kubernetes.io/name": "strata-redis",
      "app.kubernetes.io/part-of": "strata",
    });
    for (const rule of redis.inputs.spec.ingress) {
      for (const from of rule.from)
        assert.ok(
          from.podSelector && !from.namespaceSelector && !from.ipBlock,
          "pods of this namespace only",
        );
    }
    const kafka = policies.find((p) => p.name.endsWith("-kafka"))!;
    assert.deepEqual(kafka.inputs.spec.ingress[0].from, [
      { podSelector: { matchLabels: { "strata.io/client": "true" } } },
    ]);
    for (const d of ofType(run, "kubernetes:apps/v1:Deployment").filter(
      (x) => !x.name.includes("envoy"),
    )) {
      assert.equal(d.inputs.spec.template.metadata.labels["strata.io/client"], "true");
    }
  });

  it("runs every container as non-root with a read-only root filesystem", () => {
    const specs = podSpecs(run);
    assert.equal(
      specs.length,
      6,
      "serve, ingest, envoy, redis, the cluster-init job, the drift CronJob",
    );
    for (const { owner, spec } of specs) {
      assert.equal(spec.securityContext.runAsNonRoot, true, owner);
      assert.ok(spec.securityContext.runAsUser > 0, owner);
      for (const container of spec.containers) {
        assert.equal(container.securityContext.readOnlyRootFilesystem, true, owner);
        assert.equal(container.securityContext.allowPrivilegeEscalation, false, owner);
        assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"], owner);
      }
    }
  });

  it("installs the Strimzi operator and drops the ServiceMonitors when the flags say so", async () => {
    const flipped = await runStack("onprem-dc1", {
      ...config,
      "strata:kubernetes": {
        ...(config["strata:kubernetes"] as object),
        installStrimzi: true,
        strimziChart: "oci://charts.internal/strimzi-kafka-operator",
        prometheusOperator: false,
      },
    });
    assert.equal(ofType(flipped, "kubernetes:helm.sh/v3:Release").length, 1);
    assert.equal(ofType(flipped, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor").length, 0);
  });

  it("routes only the feature API through Envoy, and probes and scrapes the admin ports", () => {
    const envoy = JSON.parse(
      one(run, "kubernetes:core/v1:ConfigMap", "envoy").inputs.data["envoy.json"] as string,
    );
    const routes = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
      .route_config.virtual_hosts[0].routes as {
      match: { path?: string; prefix?: string };
      route?: { cluster: string };
      direct_response?: { status: number };
    }[];
    assert.deepEqual(
      routes.filter((r) => r.route).map((r) => [r.match.path, r.route!.cluster]),
      FEATURE_PATHS.map((path) => [path, "serve"]),
    );
    assert.deepEqual(routes.at(-1), { match: { prefix: "/" }, direct_response: { status: 404 } });
    const upstream =
      envoy.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint
        .address.socket_address;
    assert.equal(upstream.port_value, SERVE_PORT);
    const services = ofType(run, "kubernetes:core/v1:Service");
    const ports = (nameEnds: string) =>
      (
        services.find((s) => s.name.endsWith(nameEnds))!.inputs.spec.ports as { port: number }[]
      ).map((p) => p.port);
    assert.deepEqual(ports("-serve"), [SERVE_PORT], "Envoy's upstream carries the feature port");
    assert.deepEqual(ports("-serve-admin"), [SERVE_ADMIN_PORT]);
    assert.deepEqual(ports("-ingest-metrics"), [INGEST_METRICS_PORT]);
    assert.ok(
      String(upstream.address).startsWith(services.find((s) => s.name.endsWith("-serve"))!.name),
      "Envoy's upstream is the feature Service",
    );

    for (const [suffix, admin] of [
      ["serve", SERVE_ADMIN_PORT],
      ["ingest", INGEST_METRICS_PORT],
    ] as const) {
      const deployment = ofType(run, "kubernetes:apps/v1:Deployment").find((d) =>
        d.name.endsWith(`-${suffix}`),
      )!;
      const container = deployment.inputs.spec.template.spec.containers[0];
      const byName = Object.fromEntries(
        (container.ports as { name: string; containerPort: number }[]).map((p) => [
          p.name,
          p.containerPort,
        ]),
      );
      assert.equal(byName.admin, admin, suffix);
      assert.equal(byName.http, suffix === "serve" ? SERVE_PORT : undefined, suffix);
      assert.equal(container.livenessProbe.httpGet.port, "admin", suffix);
      assert.equal(container.readinessProbe.httpGet.port, "admin", suffix);
      assert.deepEqual(deployment.inputs.spec.template.metadata.annotations, {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": String(admin),
        "prometheus.io/path": "/metrics",
      });
    }
    for (const monitor of ofType(run, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor")) {
      assert.deepEqual(
        (monitor.inputs.spec.endpoints as { port: string }[]).map((e) => e.port),
        ["admin"],
      );
    }
    const servePolicy = ofType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((p) =>
      p.name.endsWith("-serve"),
    )!;
    assert.deepEqual(
      (servePolicy.inputs.spec.ingress as { from: object[]; ports: object[] }[]).map((rule) => [
        rule.from,
        rule.ports,
      ]),
      [
        [[{ podSelector: { matchLabels: ENVOY_LABELS } }], [{ port: SERVE_PORT }]],
        [
          [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
          [{ port: SERVE_ADMIN_PORT }],
        ],
      ],
    );
    // With the Prometheus operator, the region's metrics are queried where it runs.
    assert.equal(
      run.exports.metricsEndpoint,
      (config["strata:drift"] as { prometheusUrl: string }).prometheusUrl,
    );
  });
});
