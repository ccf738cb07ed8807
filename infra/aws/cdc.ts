import path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { S3Location } from "../workloads-config.js";
import { cdcConnectors, DEBEZIUM_VERSION } from "../cdc/index.js";
import type { StackConfig } from "../config.js";
import { toProperties } from "../offline/connect-properties.js";
import { cdcConnectorPolicy, secretArnPattern } from "./cdc-policy.js";
import { assumeRolePolicy } from "./policies.js";

export interface AwsCdcArgs {
  config: StackConfig;
  subnetIds: pulumi.Input<string>[];
  tasksSecurityGroupId: pulumi.Input<string>;
  kafkaBootstrap: pulumi.Input<string>;
  kafkaClusterArn: pulumi.Input<string>;
  /** The bucket the plugin zip is uploaded to (under `plugins/`). */
  artifactsBucket: pulumi.Input<string>;
}

/** The MSK config providers (github.com/aws-samples/msk-config-providers), bundled in the zip. */
const PROVIDERS = "com.amazonaws.kafka.config.providers";

/** The worker configuration: JSON values, and the two config providers the connectors use. */
export function cdcWorkerProperties(region: string): Record<string, string> {
  return {
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "config.providers": "secretsmanager,s3import",
    "config.providers.secretsmanager.class": `${PROVIDERS}.SecretsManagerConfigProvider`,
    "config.providers.secretsmanager.param.region": region,
    "config.providers.s3import.class": `${PROVIDERS}.S3ImportConfigProvider`,
    "config.providers.s3import.param.region": region,
  };
}

/** Where the S3 import provider fetches a root certificate from: `${s3import:<region>:<bucket>/<key>}`. */
function s3Import(region: string, object: S3Location): string {
  return `\${s3import:${region}:${object.bucket}/${object.key}}`;
}

/**
 * Debezium on MSK Connect: the plugin zip the build produced (`strata:cdc.pluginArchive`)
 * uploaded to S3 as a custom plugin, a worker configuration with the Secrets Manager and S3
 * import config providers, and one connector per database whose password is a
 * `${secretsmanager:<secret>:<key>}` reference and whose root certificate is imported from S3,
 * with `sslmode=verify-full`. Its service role reads exactly those secrets and objects.
 */
export class AwsCdc extends pulumi.ComponentResource {
  readonly connectorNames: string[];

  constructor(name: string, args: AwsCdcArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:aws:Cdc", name, {}, opts);
    const parent = { parent: this };
    const { config } = args;
    const cdc = config.cdc!;
    const archive = path.resolve(cdc.pluginArchive!);
    const plugin = new aws.s3.BucketObjectv2(
      `${name}-plugin`,
      {
        bucket: args.artifactsBucket,
        key: `plugins/${path.basename(archive)}`,
        source: new pulumi.asset.FileAsset(archive),
        contentType: "application/zip",
      },
      parent,
    );
    const customPlugin = new aws.mskconnect.CustomPlugin(
      `${name}-debezium`,
      {
        contentType: "ZIP",
        description: `Debezium PostgreSQL connector ${DEBEZIUM_VERSION} with the MSK config providers`,
        location: {
          s3: {
            bucketArn: pulumi.interpolate`arn:aws:s3:::${plugin.bucket}`,
            fileKey: plugin.key,
            objectVersion: plugin.versionId,
          },
        },
      },
      parent,
    );
    const worker = new aws.mskconnect.WorkerConfiguration(
      `${name}-worker`,
      { propertiesFileContent: toProperties(cdcWorkerProperties(config.region)) },
      parent,
    );
    const connectors = cdcConnectors(config, {
      password: (_, db) => `\${secretsmanager:${db.passwordSecret.name}:${db.passwordSecret.key}}`,
      rootCert: (_, db) => s3Import(config.region, db.sslRootCertSecret as S3Location),
    });
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const role = new aws.iam.Role(
      `${name}-connect`,
      { assumeRolePolicy: assumeRolePolicy("kafkaconnect.amazonaws.com") },
      parent,
    );
    const databases = Object.values(cdc.databases);
    const policy = new aws.iam.RolePolicy(
      `${name}-connect`,
      {
        role: role.id,
        policy: pulumi.all([args.kafkaClusterArn, account]).apply(([clusterArn, accountId]) =>
          JSON.stringify(
            cdcConnectorPolicy({
              clusterArn,
              project: config.project,
              secretArns: databases.map((db) =>
                secretArnPattern(config.region, accountId, db.passwordSecret.name),
              ),
              rootCerts: databases.map((db) => db.sslRootCertSecret as S3Location),
            }),
          ),
        ),
      },
      parent,
    );
    const logs = new aws.cloudwatch.LogGroup(
      `${name}-connect`,
      { retentionInDays: config.aws!.logRetentionDays },
      parent,
    );
    for (const connector of connectors) {
      new aws.mskconnect.Connector(
        `${name}-${connector.name}`,
        {
          name: connector.name,
          kafkaconnectVersion: "3.7.x",
          // One task per database (Debezium's PostgreSQL connector reads one slot).
          capacity: { provisionedCapacity: { mcuCount: 1, workerCount: 1 } },
          connectorConfiguration: connector.config,
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
          workerConfiguration: { arn: worker.arn, revision: worker.latestRevision },
          serviceExecutionRoleArn: role.arn,
          logDelivery: {
            workerLogDelivery: { cloudwatchLogs: { enabled: true, logGroup: logs.name } },
          },
        },
        { parent: this, dependsOn: [policy] },
      );
    }
    this.connectorNames = connectors.map((c) => c.name);
    this.registerOutputs({});
  }
}
