import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/** Labels Strimzi puts on every Kafka Connect pod. */
export const CONNECT_LABELS = { "strimzi.io/kind": "KafkaConnect" };

/** A Connect cluster's group and internal topics (infra/offline/names.ts, infra/cdc/names.ts). */
export interface ConnectClusterNames {
  groupId: string;
  configTopic: string;
  offsetTopic: string;
  statusTopic: string;
}

/**
 * The part of a Strimzi `KafkaConnect` spec every Strata Connect cluster shares: one replica,
 * TLS to the Kafka cluster with the KafkaUser's certificate, and its own group and internal
 * topics at the cluster's default replication (-1). Callers add their image or build, config
 * providers and pod template.
 */
export function connectClusterSpec(args: {
  kafkaClusterName: string;
  kafkaBootstrap: pulumi.Input<string>;
  userName: string;
  names: ConnectClusterNames;
}) {
  const { names } = args;
  return {
    replicas: 1,
    bootstrapServers: args.kafkaBootstrap,
    tls: {
      trustedCertificates: [
        { secretName: `${args.kafkaClusterName}-cluster-ca-cert`, certificate: "ca.crt" },
      ],
    },
    authentication: {
      type: "tls",
      certificateAndKey: { secretName: args.userName, certificate: "user.crt", key: "user.key" },
    },
    config: {
      "group.id": names.groupId,
      "config.storage.topic": names.configTopic,
      "offset.storage.topic": names.offsetTopic,
      "status.storage.topic": names.statusTopic,
      "config.storage.replication.factor": -1,
      "offset.storage.replication.factor": -1,
      "status.storage.replication.factor": -1,
    },
  };
}

/** Connect takes no traffic but the Strimzi operator's calls to its REST API. */
export function connectIngressPolicy(
  name: string,
  namespace: pulumi.Input<string>,
  connectName: string,
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
  return new k8s.networking.v1.NetworkPolicy(
    name,
    {
      metadata: { namespace },
      spec: {
        podSelector: { matchLabels: { "strimzi.io/cluster": connectName, ...CONNECT_LABELS } },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: {},
                podSelector: { matchLabels: { "strimzi.io/kind": "cluster-operator" } },
              },
            ],
            ports: [{ port: 8083 }],
          },
        ],
      },
    },
    opts,
  );
}
