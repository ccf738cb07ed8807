import app from "@pulumi/azure-native/app/index.js";
import eventhub from "@pulumi/azure-native/eventhub/index.js";
import keyvault from "@pulumi/azure-native/keyvault/index.js";
import managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as pulumi from "@pulumi/pulumi";
import { cdcTableTopic } from "../../shared/sources/debezium-config.js";
import {
  type SecretRef,
  cdcConnectors,
  cdcConnectClusterNames,
  passwordEnvName,
  connectorEnvName,
  registerConnectorsScript,
} from "../cdc/index.js";
import type { StackConfig } from "../config.js";
import { eventHubsClient, toProperties } from "../offline/connect-properties.js";
import { grant } from "./grant.js";
import { ROLE_DEFINITIONS } from "./roles.js";

export interface AzureCdcArgs {
  config: StackConfig;
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  environmentId: pulumi.Input<string>;
  eventHubsNamespaceName: pulumi.Input<string>;
  kafkaBootstrap: pulumi.Input<string>;
  vaultName: pulumi.Input<string>;
  /** The Event Hubs connection string's vault secret (id: role scope, uri: app reference). */
  kafkaConnectionSecret: { id: pulumi.Input<string>; uri: pulumi.Input<string> };
  /** The stack secrets and config values `strata:cdc` names, by key (passwords, CA certificates). */
  values: Record<string, pulumi.Input<string>>;
}

const SECRET_ENV = "KAFKA_CONNECTION";
const ROOT_CERT_DIR = "/etc/strata/cdc";
const REST_PORT = 8083;

/** The CA file of a root certificate config key, in the worker's secret volume. */
function rootCertFile(ref: SecretRef): string {
  return `${ref.name.toLowerCase()}.pem`;
}

/** The distributed worker on Event Hubs' Kafka endpoint: its group, its three hubs, env secrets. */
export function cdcDistributedWorker(project: string, bootstrap: string): Record<string, string> {
  const connect = cdcConnectClusterNames(project);
  return {
    "bootstrap.servers": bootstrap,
    ...eventHubsClient("", SECRET_ENV),
    ...eventHubsClient("producer.", SECRET_ENV),
    ...eventHubsClient("consumer.", SECRET_ENV),
    "group.id": connect.groupId,
    "config.storage.topic": connect.configTopic,
    "offset.storage.topic": connect.offsetTopic,
    "status.storage.topic": connect.statusTopic,
    "config.storage.replication.factor": "-1",
    "offset.storage.replication.factor": "-1",
    "status.storage.replication.factor": "-1",
    // The hubs are declared by the stack: the Listen+Send rule could not create a topic.
    "topic.creation.enable": "false",
    "config.providers": "env",
    "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "plugin.path": "/opt/kafka/plugins",
    listeners: `http://127.0.0.1:${REST_PORT}`,
    "rest.advertised.host.name": "127.0.0.1",
  };
}

const WORKER_COMMAND = [
  "sh",
  "-c",
  'printf "%s" "$CONNECT_WORKER" > /tmp/worker.properties && exec /opt/kafka/bin/connect-distributed.sh /tmp/worker.properties',
];

/**
 * Debezium on Azure: Kafka Connect in distributed mode (its offsets, Debezium's log position,
 * in an Event Hub) as a Container App of the region's internal environment, running
 * `strata:cdc.connectImage`; a sidecar registers one connector per database through the
 * worker's loopback REST port. Each password is a stack secret stored in the region's Key Vault
 * and reaches the worker as a Key Vault reference in an environment variable that the
 * connector names as `${env:...}`; each CA certificate is a vault secret mounted as a file for
 * `sslmode=verify-full`. The app's own identity holds Key Vault Secrets User on exactly those
 * secrets and the Event Hubs connection string. The stack declares the Connect hubs and one hub
 * per captured table.
 */
export class AzureCdc extends pulumi.ComponentResource {
  readonly connectorNames: string[];

  constructor(name: string, args: AzureCdcArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:Cdc", name, {}, opts);
    const parent = { parent: this };
    const { config } = args;
    const cdc = config.cdc!;
    const hub = (suffix: string, eventHubName: string, partitionCount: number, compact: boolean) =>
      new eventhub.EventHub(
        `${name}-${suffix}`,
        {
          resourceGroupName: args.resourceGroupName,
          namespaceName: args.eventHubsNamespaceName,
          eventHubName,
          partitionCount,
          retentionDescription: compact
            ? { cleanupPolicy: "Compact", tombstoneRetentionTimeInHours: 24 }
            : { cleanupPolicy: "Delete", retentionTimeInHours: 168 },
        },
        parent,
      );
    const connect = cdcConnectClusterNames(config.project);
    // Connect's own topics: compacted, and one partition for the configs (Connect requires it).
    const hubs = [
      hub("connect-configs", connect.configTopic, 1, true),
      hub("connect-offsets", connect.offsetTopic, 1, true),
      hub("connect-status", connect.statusTopic, 1, true),
    ];
    for (const table of [...new Set(cdc.sources.map((s) => s.table))].sort()) {
      hubs.push(
        hub(
          `table-${table.replace(/[^A-Za-z0-9-]/g, "-").toLowerCase()}`,
          cdcTableTopic(config.project, table),
          config.kafka.partitions,
          false,
        ),
      );
    }
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-connect`,
      { resourceGroupName: args.resourceGroupName, location: args.location },
      parent,
    );
    const vaultSecret = (secretName: string, key: string) => {
      const value = args.values[key];
      if (value === undefined) {
        throw new pulumi.ResourceError(
          `strata:${key} is missing; strata:cdc names it (set it with pulumi config set --secret strata:${key})`,
          this,
        );
      }
      return new keyvault.Secret(
        `${name}-${secretName}`,
        {
          resourceGroupName: args.resourceGroupName,
          vaultName: args.vaultName,
          secretName,
          properties: { value: pulumi.secret(value) },
        },
        parent,
      );
    };
    // App secrets (Key Vault references) and the environment variables and files they become.
    const appSecrets: {
      name: string;
      keyVaultUrl: pulumi.Input<string>;
      identity: pulumi.Input<string>;
    }[] = [
      {
        name: "kafka-connection",
        keyVaultUrl: args.kafkaConnectionSecret.uri,
        identity: identity.id,
      },
    ];
    const scopes: pulumi.Input<string>[] = [args.kafkaConnectionSecret.id];
    const secretEnv: { name: string; secretRef: string }[] = [];
    for (const [database, db] of Object.entries(cdc.databases)) {
      const secretName = `cdc-${database}-password`;
      const secret = vaultSecret(secretName, db.passwordSecret.name);
      appSecrets.push({
        name: secretName,
        keyVaultUrl: secret.properties.apply((p) => p.secretUri),
        identity: identity.id,
      });
      scopes.push(secret.id);
      secretEnv.push({ name: passwordEnvName(database), secretRef: secretName });
    }
    const certKeys = [
      ...new Set(
        Object.values(cdc.databases).map((db) => (db.sslRootCertSecret as SecretRef).name),
      ),
    ];
    const certVolume: { secretRef: string; path: string }[] = [];
    for (const key of certKeys) {
      const secretName = `cdc-ca-${key.toLowerCase()}`;
      const secret = vaultSecret(secretName, key);
      appSecrets.push({
        name: secretName,
        keyVaultUrl: secret.properties.apply((p) => p.secretUri),
        identity: identity.id,
      });
      scopes.push(secret.id);
      certVolume.push({ secretRef: secretName, path: rootCertFile({ name: key, key: "" }) });
    }
    const grants = scopes.map((scope, i) =>
      grant(
        `${name}-secret-${i}`,
        identity.principalId,
        scope,
        ROLE_DEFINITIONS.keyVaultSecretsUser,
        parent,
      ),
    );
    const connectors = cdcConnectors(config, {
      password: (database) => `\${env:${passwordEnvName(database)}}`,
      rootCert: (_, db) => `${ROOT_CERT_DIR}/${rootCertFile(db.sslRootCertSecret as SecretRef)}`,
    });
    this.connectorNames = connectors.map((c) => c.name);
    const image = cdc.connectImage!;
    new app.ContainerApp(
      `${name}-connect`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        managedEnvironmentId: args.environmentId,
        workloadProfileName: "Consumption",
        identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
        configuration: { activeRevisionsMode: "Single", secrets: appSecrets },
        template: {
          containers: [
            {
              name: "connect",
              image,
              command: WORKER_COMMAND,
              env: [
                {
                  name: "CONNECT_WORKER",
                  value: pulumi
                    .output(args.kafkaBootstrap)
                    .apply((b) => toProperties(cdcDistributedWorker(config.project, b))),
                },
                { name: SECRET_ENV, secretRef: "kafka-connection" },
                ...secretEnv,
              ],
              volumeMounts: [{ volumeName: "cdc-root-certs", mountPath: ROOT_CERT_DIR }],
              resources: { cpu: 1, memory: "2Gi" },
            },
            {
              name: "register",
              image,
              command: ["sh", "-c", registerConnectorsScript(this.connectorNames, REST_PORT)],
              env: connectors.map((c, i) => ({
                name: connectorEnvName(i),
                value: JSON.stringify(c.config),
              })),
              resources: { cpu: 0.25, memory: "0.5Gi" },
            },
          ],
          volumes: [{ name: "cdc-root-certs", storageType: "Secret", secrets: certVolume }],
          // One worker: each connector has one task (one replication slot).
          scale: { minReplicas: 1, maxReplicas: 1 },
        },
      },
      { parent: this, dependsOn: [...grants, ...hubs] },
    );
    this.registerOutputs({});
  }
}
