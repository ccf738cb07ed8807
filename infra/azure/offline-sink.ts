import app from "@pulumi/azure-native/app/index.js";
import managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import {
  CONNECT_STANDALONE_COMMAND,
  eventHubsClient,
  standaloneWorker,
  toProperties,
} from "../offline/connect-properties.js";
import { offlineConnectorName } from "../offline/names.js";
import { deployedSinkConnector } from "../offline/deployed-sink.js";
import { grant } from "./grant.js";
import { ROLE_DEFINITIONS, WORKLOAD_ROLES } from "./roles.js";

export interface AzureOfflineSinkArgs {
  config: StackConfig;
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  environmentId: pulumi.Input<string>;
  tenantId: pulumi.Input<string>;
  kafkaBootstrap: pulumi.Input<string>;
  /** The Event Hubs connection string's vault secret (id: role scope, uri: app reference). */
  kafkaConnectionSecret: { id: pulumi.Input<string>; uri: pulumi.Input<string> };
  warehouseContainerId: pulumi.Input<string>;
  warehouse: pulumi.Input<string>;
}

/** The variable the Event Hubs connection string reaches Connect in (a config provider reads it). */
const SECRET_ENV = "KAFKA_CONNECTION";

/**
 * The Iceberg sink on Azure: Kafka Connect (standalone, one replica, `strata:offline.connectImage`)
 * as a Container App in the region's internal environment, reading `strata.<project>.offline`
 * from Event Hubs' Kafka endpoint and committing a Hadoop catalog on the ADLS Gen2 warehouse.
 * Its own managed identity holds exactly two roles: Storage Blob Data Contributor on the
 * warehouse container and Key Vault Secrets User on the Event Hubs connection string.
 */
export class AzureOfflineSink extends pulumi.ComponentResource {
  readonly connectorName: string;

  constructor(name: string, args: AzureOfflineSinkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:OfflineSink", name, {}, opts);
    const parent = { parent: this };
    const { config } = args;
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-sink`,
      { resourceGroupName: args.resourceGroupName, location: args.location },
      parent,
    );
    const grants = [
      grant(
        `${name}-sink-warehouse`,
        identity.principalId,
        args.warehouseContainerId,
        WORKLOAD_ROLES.storageBlobDataContributor,
        parent,
      ),
      grant(
        `${name}-sink-kafka-secret`,
        identity.principalId,
        args.kafkaConnectionSecret.id,
        ROLE_DEFINITIONS.keyVaultSecretsUser,
        parent,
      ),
    ];
    const sink = pulumi
      .all([args.warehouse, identity.clientId, args.tenantId])
      .apply(([warehouse, clientId, tenantId]) =>
        deployedSinkConnector(
          {
            project: config.project,
            commitIntervalMs: config.offline.commitIntervalMs,
            catalog: { type: "hadoop", warehouse },
          },
          {
            // ABFS authenticates with the app's managed identity: no key or SAS anywhere.
            "iceberg.hadoop.fs.azure.account.auth.type": "OAuth",
            "iceberg.hadoop.fs.azure.account.oauth.provider.type":
              "org.apache.hadoop.fs.azurebfs.oauth2.MsiTokenProvider",
            "iceberg.hadoop.fs.azure.account.oauth2.client.id": clientId,
            "iceberg.hadoop.fs.azure.account.oauth2.msi.tenant": tenantId,
            "iceberg.kafka.bootstrap.servers": "${env:KAFKA_BOOTSTRAP}",
            ...eventHubsClient("iceberg.kafka.", SECRET_ENV),
          },
        ),
      );
    this.connectorName = offlineConnectorName(config.project);
    new app.ContainerApp(
      `${name}-connect`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        managedEnvironmentId: args.environmentId,
        workloadProfileName: "Consumption",
        identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
        configuration: {
          activeRevisionsMode: "Single",
          secrets: [
            {
              name: "kafka-connection",
              keyVaultUrl: args.kafkaConnectionSecret.uri,
              identity: identity.id,
            },
          ],
        },
        template: {
          containers: [
            {
              name: "connect",
              image: config.offline.connectImage!,
              command: CONNECT_STANDALONE_COMMAND,
              env: [
                {
                  name: "CONNECT_WORKER",
                  value: pulumi
                    .output(args.kafkaBootstrap)
                    .apply((bootstrap) => toProperties(standaloneWorker(bootstrap, SECRET_ENV))),
                },
                {
                  name: "CONNECT_SINK",
                  value: sink.apply((s) => toProperties({ name: s.name, ...s.config })),
                },
                { name: "KAFKA_BOOTSTRAP", value: args.kafkaBootstrap },
                { name: SECRET_ENV, secretRef: "kafka-connection" },
              ],
              resources: { cpu: 1, memory: "2Gi" },
            },
          ],
          // One worker: the sink's commits are coordinated by one task.
          scale: { minReplicas: 1, maxReplicas: 1 },
        },
      },
      { parent: this, dependsOn: grants },
    );
    this.registerOutputs({});
  }
}
