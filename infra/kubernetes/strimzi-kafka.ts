import * as k8s from "@pulumi/kubernetes";
import { offlineSinkGroupId, offlineTopic } from "../../shared/offline/topics.js";
import * as pulumi from "@pulumi/pulumi";
import {
  registryReaderGroupPrefix,
  registryTopic,
  replicatedRegistryTopic,
} from "../../shared/registry-log/registry-topics.js";
import type { StackConfig } from "../config.js";

/** The listener peers' MirrorMaker 2 connects to (declared only when the region has peers). */
export const PEER_LISTENER_PORT = 9094;

export interface StrimziKafkaArgs {
  config: StackConfig;
  namespace: pulumi.Input<string>;
}

/** One ACL of a KafkaUser (simple authorization), from any host. */
function acl(resource: object, operations: string[]) {
  return { resource, operations, host: "*" };
}

/**
 * Kafka through Strimzi: optionally the operator (Helm), a KRaft cluster of `brokers` dual-role
 * nodes (a KafkaNodePool with persistent storage), one internal listener with TLS and mutual-TLS
 * client authentication (no external listener), simple authorization; the compacted changelog
 * and the dead-letter topic as KafkaTopics; a KafkaUser each for the serving tier and the
 * consumer with only the ACLs they need.
 */
export class StrimziKafka extends pulumi.ComponentResource {
  readonly clusterName: string;
  readonly bootstrap: pulumi.Output<string>;
  readonly servingUser: string;
  readonly consumerUser: string;

  constructor(name: string, args: StrimziKafkaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:kubernetes:StrimziKafka", name, {}, opts);
    const { config, namespace } = args;
    const options = config.kubernetes!;
    const dependsOn: pulumi.Resource[] = [];
    if (options.installStrimzi) {
      dependsOn.push(
        new k8s.helm.v3.Release(
          `${name}-operator`,
          {
            chart: options.strimziChart!,
            namespace,
            values: { watchNamespaces: [], createGlobalResources: true },
          },
          { parent: this },
        ),
      );
    }
    const parent = { parent: this, dependsOn };
    this.clusterName = name;
    const labels = { "strimzi.io/cluster": name };
    new k8s.apiextensions.CustomResource(
      `${name}-nodes`,
      {
        apiVersion: "kafka.strimzi.io/v1beta2",
        kind: "KafkaNodePool",
        metadata: { name: `${name}-nodes`, namespace, labels },
        spec: {
          replicas: config.kafka.brokers,
          roles: ["controller", "broker"],
          storage: {
            type: "jbod",
            volumes: [
              {
                id: 0,
                type: "persistent-claim",
                size: config.kafka.brokerSize,
                deleteClaim: false,
                kraftMetadata: "shared",
                class: options.storageClass,
              },
            ],
          },
          template: {
            pod: {
              affinity: {
                podAntiAffinity: {
                  preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                      weight: 100,
                      podAffinityTerm: {
                        labelSelector: { matchLabels: labels },
                        topologyKey: "kubernetes.io/hostname",
                      },
                    },
                  ],
                },
              },
            },
          },
        },
      },
      parent,
    );
    const minIsr = Math.min(2, config.kafka.brokers);
    new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: "kafka.strimzi.io/v1beta2",
        kind: "Kafka",
        metadata: {
          name,
          namespace,
          annotations: { "strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled" },
        },
        spec: {
          kafka: {
            listeners: [
              {
                name: "tls",
                port: 9093,
                type: "internal",
                tls: true,
                authentication: { type: "tls" },
              },
              // With peers, their MirrorMaker 2 reads this region's changelog over this one:
              // TLS, mutual-TLS authentication, a peer's KafkaUser reads and nothing else.
              ...(config.peers.length > 0
                ? [
                    {
                      name: "peers",
                      port: PEER_LISTENER_PORT,
                      type: "loadbalancer",
                      tls: true,
                      authentication: { type: "tls" },
                    },
                  ]
                : []),
            ],
            authorization: { type: "simple" },
            config: {
              "auto.create.topics.enable": false,
              "default.replication.factor": Math.min(3, config.kafka.brokers),
              "min.insync.replicas": minIsr,
              "offsets.topic.replication.factor": Math.min(3, config.kafka.brokers),
              "transaction.state.log.replication.factor": Math.min(3, config.kafka.brokers),
              "transaction.state.log.min.isr": minIsr,
            },
          },
          entityOperator: { topicOperator: {}, userOperator: {} },
        },
      },
      parent,
    );
    const topic = (
      suffix: string,
      kafkaName: string,
      topicConfig: Record<string, string | number>,
      partitions: number,
    ) =>
      new k8s.apiextensions.CustomResource(
        `${name}-${suffix}`,
        {
          apiVersion: "kafka.strimzi.io/v1beta2",
          kind: "KafkaTopic",
          metadata: { name: `${name}-${suffix}`, namespace, labels },
          spec: {
            topicName: kafkaName,
            partitions,
            replicas: Math.min(3, config.kafka.brokers),
            config: topicConfig,
          },
        },
        parent,
      );
    const changelog = `strata.${config.project}.changelog`;
    const dlq = `strata.${config.project}.dlq`;
    topic(
      "changelog",
      changelog,
      {
        "cleanup.policy": "compact",
        "min.compaction.lag.ms": 7 * 24 * 3_600_000,
        "min.insync.replicas": minIsr,
      },
      config.kafka.partitions,
    );
    topic(
      "dlq",
      dlq,
      {
        "cleanup.policy": "delete",
        "retention.ms": 30 * 24 * 3_600_000,
        "min.insync.replicas": minIsr,
      },
      Math.min(4, config.kafka.partitions),
    );
    const user = (suffix: string, acls: object[]) =>
      new k8s.apiextensions.CustomResource(
        `${name}-${suffix}`,
        {
          apiVersion: "kafka.strimzi.io/v1beta2",
          kind: "KafkaUser",
          metadata: { name: `${name}-${suffix}`, namespace, labels },
          spec: { authentication: { type: "tls" }, authorization: { type: "simple", acls } },
        },
        parent,
      );
    const topics = { type: "topic", name: `strata.${config.project}.`, patternType: "prefix" };
    const literal = (topicName: string) => ({
      type: "topic",
      name: topicName,
      patternType: "literal",
    });
    const readerGroups = {
      type: "group",
      name: registryReaderGroupPrefix(config.project),
      patternType: "prefix",
    };
    this.servingUser = `${name}-serve`;
    // Serving writes the changelog (POST /push) and no other topic, creates the project's topics
    // at start-up, and follows the published registry: the registry topic and each peer's copy
    // (created when replication has not yet), read in reader groups it deletes on stop.
    user("serve", [
      acl(topics, ["Describe", "DescribeConfigs", "Create"]),
      acl(literal(changelog), ["Write"]),
      acl(literal(registryTopic(config.project)), ["Read"]),
      ...config.peers.map((peer) =>
        acl(literal(replicatedRegistryTopic(config.project, peer.region)), [
          "Describe",
          "Create",
          "Read",
        ]),
      ),
      acl(readerGroups, ["Read", "Describe", "Delete"]),
      acl({ type: "cluster" }, ["Describe", "IdempotentWrite"]),
    ]);
    this.consumerUser = `${name}-ingest`;
    // The consumer writes the dead-letter topic and, projecting for the offline store
    // (STRATA_OFFLINE=on), the offline topic with an idempotent producer; no other.
    user("ingest", [
      acl(topics, ["Describe", "DescribeConfigs", "Create", "Read"]),
      acl({ type: "topic", name: dlq, patternType: "literal" }, ["Write"]),
      acl({ type: "topic", name: offlineTopic(config.project), patternType: "literal" }, ["Write"]),
      // The sink's committed offsets: the offline commit lag metric.
      acl({ type: "group", name: offlineSinkGroupId(config.project), patternType: "literal" }, [
        "Describe",
      ]),
      // The peers' changelogs and registries, replicated here as <peer>.strata.<project>.*; the
      // consumer creates one that MirrorMaker 2 has not created yet.
      ...config.peers.map((peer) =>
        acl(
          {
            type: "topic",
            name: `${peer.region}.strata.${config.project}.`,
            patternType: "prefix",
          },
          ["Describe", "Create", "Read"],
        ),
      ),
      acl({ type: "group", name: `strata.${config.project}.`, patternType: "prefix" }, [
        "Read",
        "Describe",
      ]),
      // Its registry reader's group, deleted when it stops.
      acl(readerGroups, ["Delete"]),
      acl({ type: "cluster" }, ["Describe", "IdempotentWrite"]),
    ]);
    // One KafkaUser per peer: its replicator reads the changelog and the registry here, and
    // writes nothing.
    // Strimzi puts its certificate in the Secret of the same name (user.crt, user.key): that
    // pair is what the peer's stack takes as strata:peerCredentials-<this region>.
    for (const peer of config.peers) {
      user(`peer-${peer.region}`, [
        ...[changelog, registryTopic(config.project)].map((replicated) =>
          acl(literal(replicated), ["Describe", "DescribeConfigs", "Read"]),
        ),
        acl({ type: "cluster" }, ["Describe"]),
      ]);
    }
    this.bootstrap = pulumi.interpolate`${name}-kafka-bootstrap.${namespace}.svc:9093`;
    this.registerOutputs({ bootstrap: this.bootstrap });
  }
}
