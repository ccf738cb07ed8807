import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import {
  connectClusterNames,
  offlineControlGroupPrefix,
  offlineControlTopic,
  offlineTopic,
  sinkConsumerGroup,
  WAREHOUSE_PREFIX,
} from "../offline/names.js";
import { deployedSinkConnector } from "../offline/deployed-sink.js";
import { acl, kafkaUser } from "./kafka-user.js";
import { CLIENT_LABEL, CONTAINER_SECURITY, podSecurity } from "./security.js";
import { connectClusterSpec, connectIngressPolicy } from "./strimzi-connect.js";

export interface KubernetesOfflineSinkArgs {
  config: StackConfig;
  namespace: pulumi.Input<string>;
  kafkaClusterName: string;
  kafkaBootstrap: pulumi.Input<string>;
}

/** The on-prem warehouse as the Hadoop catalog and the readers name it. */
export function onPremWarehouse(config: StackConfig): string {
  return `s3a://${config.offline.objectStore!.bucket}/${WAREHOUSE_PREFIX}`;
}

/**
 * The Iceberg sink on Strimzi: a KafkaConnect cluster running `strata:offline.connectImage`
 * (an image with Iceberg's kafka-connect runtime and hadoop-aws on its plugin path: Strimzi's
 * build would need a registry to push to and its credentials, which this program does not
 * hold), a KafkaConnector `strata-<project>-offline` writing a Hadoop catalog on the site's
 * S3-compatible store, and a KafkaUser limited to the offline topic, the sink's control topic,
 * Connect's own topics and their groups.
 */
export class KubernetesOfflineSink extends pulumi.ComponentResource {
  readonly connectorName: string;
  readonly warehouse: string;

  constructor(
    name: string,
    args: KubernetesOfflineSinkArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("strata:kubernetes:OfflineSink", name, {}, opts);
    const parent = { parent: this };
    const { config, namespace } = args;
    const store = config.offline.objectStore!;
    const connect = connectClusterNames(config.project);
    const connectName = `${args.kafkaClusterName}-offline`;
    const userName = `${args.kafkaClusterName}-offline-sink`;
    kafkaUser(
      `${name}-user`,
      {
        userName,
        namespace,
        kafkaClusterName: args.kafkaClusterName,
        acls: [
          acl({ type: "topic", name: offlineTopic(config.project), patternType: "literal" }, [
            "Describe",
            "Read",
          ]),
          ...[
            offlineControlTopic(config.project),
            connect.configTopic,
            connect.offsetTopic,
            connect.statusTopic,
          ].map((topic) =>
            acl({ type: "topic", name: topic, patternType: "literal" }, [
              "Describe",
              "DescribeConfigs",
              "Create",
              "Read",
              "Write",
            ]),
          ),
          acl({ type: "group", name: connect.groupId, patternType: "literal" }, [
            "Describe",
            "Read",
          ]),
          acl({ type: "group", name: sinkConsumerGroup(config.project), patternType: "literal" }, [
            "Describe",
            "Read",
          ]),
          acl(
            {
              type: "group",
              name: offlineControlGroupPrefix(config.project),
              patternType: "prefix",
            },
            ["Describe", "Read"],
          ),
          // Iceberg commits through transactions on the control topic, with ids it derives.
          acl({ type: "transactionalId", name: "*", patternType: "literal" }, [
            "Describe",
            "Write",
          ]),
          acl({ type: "cluster" }, ["Describe", "IdempotentWrite"]),
        ],
      },
      parent,
    );
    const credential = (envName: string, key: string) => ({
      name: envName,
      valueFrom: { secretKeyRef: { name: store.credentialsSecret, key } },
    });
    new k8s.apiextensions.CustomResource(
      `${name}-connect`,
      {
        apiVersion: "kafka.strimzi.io/v1beta2",
        kind: "KafkaConnect",
        metadata: {
          name: connectName,
          namespace,
          annotations: { "strimzi.io/use-connector-resources": "true" },
        },
        spec: {
          ...connectClusterSpec({ ...args, userName, names: connect }),
          image: config.offline.connectImage,
          template: {
            pod: {
              metadata: { labels: CLIENT_LABEL },
              securityContext: podSecurity(1001),
            },
            connectContainer: {
              securityContext: CONTAINER_SECURITY,
              env: [
                credential("AWS_ACCESS_KEY_ID", "accessKeyId"),
                credential("AWS_SECRET_ACCESS_KEY", "secretAccessKey"),
                { name: "AWS_REGION", value: store.region },
              ],
            },
          },
        },
      },
      parent,
    );
    const sink = deployedSinkConnector(
      {
        project: config.project,
        commitIntervalMs: config.offline.commitIntervalMs,
        catalog: { type: "hadoop", warehouse: onPremWarehouse(config) },
      },
      {
        "iceberg.hadoop.fs.s3a.endpoint": store.endpoint,
        "iceberg.hadoop.fs.s3a.endpoint.region": store.region,
        "iceberg.hadoop.fs.s3a.path.style.access": "true",
      },
    );
    const { "connector.class": connectorClass, "tasks.max": tasksMax, ...rest } = sink.config;
    new k8s.apiextensions.CustomResource(
      `${name}-connector`,
      {
        apiVersion: "kafka.strimzi.io/v1beta2",
        kind: "KafkaConnector",
        metadata: { name: sink.name, namespace, labels: { "strimzi.io/cluster": connectName } },
        spec: { class: connectorClass, tasksMax: Number(tasksMax), config: rest },
      },
      parent,
    );
    connectIngressPolicy(`${name}-connect`, namespace, connectName, parent);
    this.connectorName = sink.name;
    this.warehouse = onPremWarehouse(config);
    this.registerOutputs({});
  }
}
