import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { resourceName, type RegionComponent, type RegionOutputs } from "../region-stack.js";
import type { PeerCredentials } from "../deploy-region.js";
import type { ReplicationFlow } from "../replication.js";
import { KubernetesBackfill } from "./backfill.js";
import { KubernetesCdc } from "./cdc.js";
import { KubernetesDrift } from "./drift.js";
import { EnvoyFront } from "./envoy.js";
import { NetworkPolicies } from "./network-policies.js";
import { KubernetesOfflineSink } from "./offline-sink.js";
import { KubernetesPrometheus } from "./prometheus.js";
import { KubernetesReconcile } from "./reconcile.js";
import { RedisCluster } from "./redis-cluster.js";
import { KubernetesReplication } from "./replication.js";
import { INGEST_LABELS, KubernetesServing, SERVE_LABELS } from "./serving.js";
import { StrimziKafka } from "./strimzi-kafka.js";

export interface KubernetesSecrets {
  apiKeys: pulumi.Input<string>;
  argoToken: pulumi.Input<string>;
  redisPassword: pulumi.Input<string>;
  peerCredentials: PeerCredentials;
}

/** One Strata region on an on-prem Kubernetes cluster: everything in one namespace. */
export class KubernetesRegion extends pulumi.ComponentResource implements RegionComponent {
  readonly outputs: RegionOutputs;

  constructor(
    config: StackConfig,
    secrets: KubernetesSecrets,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    const name = resourceName(config, config.region);
    super("strata:kubernetes:Region", name, {}, opts);
    const parent = { parent: this };
    const ns = new k8s.core.v1.Namespace(
      name,
      {
        metadata: { name, labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
      },
      parent,
    );
    const namespace = ns.metadata.name;
    const redis = new RedisCluster(
      `${name}-redis`,
      { config, namespace, password: secrets.redisPassword },
      parent,
    );
    const kafka = new StrimziKafka("strata-kafka", { config, namespace }, parent);
    const serving = new KubernetesServing(
      name,
      {
        config,
        namespace,
        redisEndpoint: redis.endpoint,
        redisPasswordSecret: redis.passwordSecretName,
        redisTlsSecret: redis.tlsSecretName,
        kafkaBootstrap: kafka.bootstrap,
        kafkaClusterName: kafka.clusterName,
        servingKafkaUser: kafka.servingUser,
        consumerKafkaUser: kafka.consumerUser,
        apiKeys: secrets.apiKeys,
      },
      parent,
    );
    const envoy = new EnvoyFront(
      `${name}-envoy`,
      { config, namespace, upstreamHost: serving.serviceHost },
      parent,
    );
    const peered = config.peers.length > 0;
    new NetworkPolicies(
      name,
      {
        namespace,
        kafkaClusterName: kafka.clusterName,
        monitoringNamespace: "monitoring",
        mirrorMaker: peered,
        ownPrometheus: !config.kubernetes!.prometheusOperator,
      },
      parent,
    );
    let replication: pulumi.Output<ReplicationFlow[]> = pulumi.output([]);
    // A lone region replicates nothing and has nothing to reconcile against.
    if (peered) {
      replication = new KubernetesReplication(
        `${name}-from`,
        {
          config,
          peerCredentials: secrets.peerCredentials,
          namespace,
          kafkaClusterName: kafka.clusterName,
          kafkaBootstrap: kafka.bootstrap,
        },
        parent,
      ).flows;
      new KubernetesReconcile(
        `${name}-reconcile`,
        { config, namespace, kafkaClusterName: kafka.clusterName, jobPodSpec: serving.jobPodSpec },
        parent,
      );
    }
    const sink = new KubernetesOfflineSink(
      `${name}-offline`,
      {
        config,
        namespace,
        kafkaClusterName: kafka.clusterName,
        kafkaBootstrap: kafka.bootstrap,
      },
      parent,
    );
    if (config.cdc) {
      new KubernetesCdc(
        `${name}-cdc`,
        {
          config,
          namespace,
          kafkaClusterName: kafka.clusterName,
          kafkaBootstrap: kafka.bootstrap,
        },
        parent,
      );
    }
    const backfill = new KubernetesBackfill(
      `${name}-backfill`,
      {
        config,
        namespace,
        kafkaClusterName: kafka.clusterName,
        jobPodSpec: serving.jobPodSpec,
        warehouse: sink.warehouse,
      },
      parent,
    );
    // The operator's Prometheus scrapes through the ServiceMonitors below; without it, the
    // region runs its own.
    const ownPrometheus = !config.kubernetes!.prometheusOperator;
    const prometheusUrl = ownPrometheus
      ? new KubernetesPrometheus(`${name}-prometheus`, { config, namespace }, parent).url
      : pulumi.output(config.drift.prometheusUrl!);
    new KubernetesDrift(
      `${name}-drift`,
      {
        config,
        namespace,
        prometheusUrl,
        ownPrometheus,
        argoToken: secrets.argoToken,
        redisEndpoint: redis.endpoint,
        redisPasswordSecret: redis.passwordSecretName,
        redisTlsSecret: redis.tlsSecretName,
      },
      parent,
    );
    if (config.kubernetes!.prometheusOperator) {
      const monitor = (suffix: string, labels: Record<string, string>) =>
        new k8s.apiextensions.CustomResource(
          `${name}-${suffix}`,
          {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "ServiceMonitor",
            metadata: { namespace },
            spec: {
              selector: { matchLabels: labels },
              endpoints: [{ port: "admin", path: "/metrics", interval: "15s" }],
            },
          },
          parent,
        );
      monitor("serve-metrics", SERVE_LABELS);
      monitor("ingest-metrics", INGEST_LABELS);
    }
    this.outputs = {
      cloud: pulumi.output("kubernetes" as const),
      region: pulumi.output(config.region),
      servingUrl: envoy.url,
      redisEndpoint: redis.endpoint,
      kafkaBootstrap: kafka.bootstrap,
      metricsEndpoint: prometheusUrl,
      replication,
      offlineWarehouse: pulumi.output(sink.warehouse),
      offlineConnector: pulumi.output(sink.connectorName),
      backfillEndpoint: backfill.endpoint,
      driftSchedule: pulumi.output(config.drift.schedule),
    };
    this.registerOutputs({ ...this.outputs });
  }
}
