import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import type { PeerCredentials } from "../deploy-region.js";
import { pemHalf, type PeerRegion } from "../peers.js";
import { replicationFlows, topicPattern, type ReplicationFlow } from "../replication.js";
import { CLIENT_LABEL } from "./security.js";

export interface KubernetesReplicationArgs {
  config: StackConfig;
  peerCredentials: PeerCredentials;
  namespace: pulumi.Input<string>;
  /** The region's Strimzi Kafka (its name labels KafkaUsers, its CA secret is trusted). */
  kafkaClusterName: string;
  kafkaBootstrap: pulumi.Input<string>;
}

/** MirrorMaker 2's pods: Strimzi labels them with the resource's name and this kind. */
export const MIRROR_MAKER_LABELS = { "strimzi.io/kind": "KafkaMirrorMaker2" };

/**
 * Inbound replication from every peer into this region's Kafka: per peer, a Strimzi
 * `KafkaMirrorMaker2` (one direction, the default replication policy, TLS to both clusters),
 * its KafkaUser here (mutual TLS; only the peer's prefixed topics and its own bookkeeping),
 * and Secrets with the peer's CA and credential.
 */
export class KubernetesReplication extends pulumi.ComponentResource {
  readonly flows: pulumi.Output<ReplicationFlow[]>;

  constructor(
    name: string,
    args: KubernetesReplicationArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("strata:kubernetes:Replication", name, {}, opts);
    for (const peer of args.config.peers) this.mirrorMaker(`${name}-${peer.region}`, peer, args);
    this.flows = pulumi.output(
      replicationFlows(args.config.cloud, args.config.project, args.config.peers),
    );
    this.registerOutputs({ flows: this.flows });
  }

  private mirrorMaker(name: string, peer: PeerRegion, args: KubernetesReplicationArgs): void {
    const parent = { parent: this };
    const { config, namespace } = args;
    const labels = { "strimzi.io/cluster": args.kafkaClusterName };
    const here = config.region;
    // MM2's Connect group and its offsets/configs/status topics, all under one prefix.
    const bookkeeping = `strata-mm2-${peer.region}`;
    const topicAcl = (prefix: string, operations: string[]) => ({
      resource: { type: "topic", name: prefix, patternType: "prefix" },
      operations,
      host: "*",
    });
    const all = ["Create", "Describe", "DescribeConfigs", "AlterConfigs", "Read", "Write"];
    const user = new k8s.apiextensions.CustomResource(
      `${name}-user`,
      {
        apiVersion: "kafka.strimzi.io/v1beta2",
        kind: "KafkaUser",
        metadata: { name: `${name}-mm2`, namespace, labels },
        spec: {
          authentication: { type: "tls" },
          authorization: {
            type: "simple",
            acls: [
              topicAcl(`${peer.region}.strata.${config.project}.`, all),
              topicAcl(bookkeeping, all),
              topicAcl("mm2-offset-syncs.", all),
              {
                resource: { type: "group", name: bookkeeping, patternType: "prefix" },
                operations: ["Read", "Describe"],
                host: "*",
              },
              { resource: { type: "cluster" }, operations: ["Describe"], host: "*" },
            ],
          },
        },
      },
      parent,
    );
    const ca = new k8s.core.v1.Secret(
      `${name}-ca`,
      { metadata: { namespace }, stringData: { "ca.crt": peer.caCertificate ?? "" } },
      parent,
    );
    const secret = args.peerCredentials[peer.region]!;
    const credential = new k8s.core.v1.Secret(
      `${name}-credential`,
      {
        metadata: { namespace },
        stringData:
          peer.auth === "mtls"
            ? {
                "user.crt": pulumi
                  .output(secret)
                  .apply((j) => pemHalf(j, "certificate", peer.region)),
                "user.key": pulumi.output(secret).apply((j) => pemHalf(j, "key", peer.region)),
              }
            : { password: secret },
      },
      parent,
    );
    const credentialName = credential.metadata.name;
    const peerAuthentication =
      peer.auth === "mtls"
        ? {
            type: "tls",
            certificateAndKey: {
              secretName: credentialName,
              certificate: "user.crt",
              key: "user.key",
            },
          }
        : {
            type: peer.auth === "event-hubs" ? "plain" : "scram-sha-512",
            username: peer.auth === "event-hubs" ? "$ConnectionString" : peer.username,
            passwordSecret: { secretName: credentialName, password: "password" },
          };
    const replication = Math.min(3, config.kafka.brokers);
    new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: "kafka.strimzi.io/v1beta2",
        kind: "KafkaMirrorMaker2",
        metadata: { name, namespace },
        spec: {
          replicas: 1,
          connectCluster: here,
          clusters: [
            {
              alias: here,
              bootstrapServers: args.kafkaBootstrap,
              tls: {
                trustedCertificates: [
                  { secretName: `${args.kafkaClusterName}-cluster-ca-cert`, certificate: "ca.crt" },
                ],
              },
              authentication: {
                type: "tls",
                certificateAndKey: {
                  secretName: user.metadata.name,
                  certificate: "user.crt",
                  key: "user.key",
                },
              },
              config: {
                "group.id": bookkeeping,
                "offset.storage.topic": `${bookkeeping}-offsets`,
                "config.storage.topic": `${bookkeeping}-configs`,
                "status.storage.topic": `${bookkeeping}-status`,
                "config.storage.replication.factor": replication,
                "offset.storage.replication.factor": replication,
                "status.storage.replication.factor": replication,
                // One replica: a restarted pod rejoins as a new member and takes the flow back
                // at once, not after Connect's default five-minute wait for the departed one.
                "scheduled.rebalance.max.delay.ms": 0,
              },
            },
            {
              alias: peer.region,
              bootstrapServers: peer.bootstrap,
              // TLS always; a private CA's certificate is trusted explicitly, a public one by default.
              tls: {
                trustedCertificates: peer.caCertificate
                  ? [{ secretName: ca.metadata.name, certificate: "ca.crt" }]
                  : [],
              },
              authentication: peerAuthentication,
            },
          ],
          mirrors: [
            {
              sourceCluster: peer.region,
              targetCluster: here,
              topicsPattern: topicPattern(config.project),
              sourceConnector: {
                tasksMax: 1,
                config: {
                  "replication.policy.class":
                    "org.apache.kafka.connect.mirror.DefaultReplicationPolicy",
                  "replication.factor": replication,
                  "sync.topic.configs.enabled": "true",
                  "sync.topic.acls.enabled": "false",
                  // Nothing is written to the peer: offset syncs stay here.
                  "offset-syncs.topic.location": "target",
                },
              },
            },
          ],
          template: { pod: { metadata: { labels: CLIENT_LABEL } } },
        },
      },
      parent,
    );
  }
}
