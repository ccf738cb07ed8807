import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { offlineConnectorName } from "../offline/names.js";
import { deployedSinkConnector } from "../offline/deployed-sink.js";
import { assumeRolePolicy } from "./policies.js";
import { sinkConnectorPolicy } from "./workload-policies.js";

export interface AwsOfflineSinkArgs {
  config: StackConfig;
  subnetIds: pulumi.Input<string>[];
  tasksSecurityGroupId: pulumi.Input<string>;
  kafkaBootstrap: pulumi.Input<string>;
  kafkaClusterArn: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  databaseArn: pulumi.Input<string>;
  warehouse: pulumi.Input<string>;
}

/**
 * The Iceberg sink on MSK Connect: the custom plugin (Iceberg's kafka-connect runtime with
 * iceberg-aws, a zip at `strata:offline.connectPlugin`), the connector reading
 * `strata.<project>.offline` into the Glue catalog, with IAM to MSK and a service role that
 * may write only the warehouse prefix and the project's Glue database.
 */
export class AwsOfflineSink extends pulumi.ComponentResource {
  readonly connectorName: string;

  constructor(name: string, args: AwsOfflineSinkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:aws:OfflineSink", name, {}, opts);
    const parent = { parent: this };
    const { config } = args;
    const plugin = config.offline.connectPlugin!;
    const role = new aws.iam.Role(
      `${name}-connect`,
      { assumeRolePolicy: assumeRolePolicy("kafkaconnect.amazonaws.com") },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-connect`,
      {
        role: role.id,
        policy: pulumi
          .all([args.kafkaClusterArn, args.bucketArn, args.databaseArn])
          .apply(([cluster, bucket, database]) =>
            JSON.stringify(sinkConnectorPolicy(cluster, config.project, bucket, database)),
          ),
      },
      parent,
    );
    const customPlugin = new aws.mskconnect.CustomPlugin(
      `${name}-iceberg`,
      {
        contentType: "ZIP",
        location: { s3: { bucketArn: `arn:aws:s3:::${plugin.bucket}`, fileKey: plugin.key } },
      },
      parent,
    );
    const logs = new aws.cloudwatch.LogGroup(
      `${name}-connect`,
      { retentionInDays: config.aws!.logRetentionDays },
      parent,
    );
    const sink = pulumi.output(args.warehouse).apply((warehouse) =>
      deployedSinkConnector(
        {
          project: config.project,
          commitIntervalMs: config.offline.commitIntervalMs,
          catalog: { type: "glue", warehouse, properties: { "client.region": config.region } },
        },
        {
          // The control topic's clients log in like the workers: IAM, signed with the role.
          "iceberg.kafka.security.protocol": "SASL_SSL",
          "iceberg.kafka.sasl.mechanism": "AWS_MSK_IAM",
          "iceberg.kafka.sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
          "iceberg.kafka.sasl.client.callback.handler.class":
            "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
        },
      ),
    );
    this.connectorName = offlineConnectorName(config.project);
    new aws.mskconnect.Connector(
      `${name}-sink`,
      {
        name: this.connectorName,
        kafkaconnectVersion: "3.7.x",
        capacity: { provisionedCapacity: { mcuCount: 1, workerCount: 1 } },
        connectorConfiguration: sink.apply((s) => s.config),
        kafkaCluster: {
          apacheKafkaCluster: {
            bootstrapServers: args.kafkaBootstrap,
            vpc: { securityGroups: [args.tasksSecurityGroupId], subnets: args.subnetIds },
          },
        },
        kafkaClusterClientAuthentication: { authenticationType: "IAM" },
        kafkaClusterEncryptionInTransit: { encryptionType: "TLS" },
        plugins: [
          { customPlugin: { arn: customPlugin.arn, revision: customPlugin.latestRevision } },
        ],
        serviceExecutionRoleArn: role.arn,
        logDelivery: {
          workerLogDelivery: { cloudwatchLogs: { enabled: true, logGroup: logs.name } },
        },
      },
      parent,
    );
    this.registerOutputs({});
  }
}
