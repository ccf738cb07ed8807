import app from "@pulumi/azure-native/app/index.js";
import authorization from "@pulumi/azure-native/authorization/index.js";
import keyvault from "@pulumi/azure-native/keyvault/index.js";
import managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import operationalinsights from "@pulumi/azure-native/operationalinsights/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import {
  INGEST_COMMAND,
  INGEST_METRICS_PORT,
  jobEnvironment,
  peerEnvironment,
  regionEnvironment,
  SERVE_ADMIN_PORT,
  SERVE_COMMAND,
  SERVE_PORT,
} from "../region-stack.js";
import { cdcIngestEnvironment, offlineProjectionEnvironment } from "../workload-env.js";
import { collectorContainer } from "./collector.js";
import { PrivateEndpoint } from "./private-endpoint.js";
import { roleDefinitionId, ROLE_DEFINITIONS } from "./roles.js";

export interface AzureContainerAppsArgs {
  config: StackConfig;
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  vnetId: pulumi.Input<string>;
  appsSubnetId: pulumi.Input<string>;
  endpointsSubnetId: pulumi.Input<string>;
  redisEndpoint: pulumi.Input<string>;
  redisKey: pulumi.Input<string>;
  kafkaBootstrap: pulumi.Input<string>;
  kafkaConnectionString: pulumi.Input<string>;
  eventHubsNamespaceId: pulumi.Input<string>;
  /** The data collection rule the collectors write through, and its remote-write URL. */
  metricsRuleId: pulumi.Input<string>;
  metricsRemoteWriteUrl: pulumi.Input<string>;
  apiKeys: pulumi.Input<string>;
}

/**
 * The serving app (min replicas >= 1, CPU scaling) and the consumer app in an internal
 * Container Apps environment in the VNet; a user-assigned identity holding only the roles it
 * needs; secrets in a Key Vault (RBAC, purge protection, private endpoint) that the apps
 * reference by identity; logs in Log Analytics.
 */
export class AzureContainerApps extends pulumi.ComponentResource {
  readonly servingUrl: pulumi.Output<string>;
  /** Where the replication apps and the reconcile job run, with the same identity and vault. */
  readonly environmentId: pulumi.Output<string>;
  readonly identityId: pulumi.Output<string>;
  readonly vaultName: pulumi.Output<string>;
  /** A one-shot job of the image: the consumer's variables (no ports) and the secrets they name. */
  readonly jobEnv: { name: string; value?: pulumi.Input<string>; secretRef?: string }[];
  readonly jobSecrets: {
    name: string;
    keyVaultUrl: pulumi.Input<string>;
    identity: pulumi.Input<string>;
  }[];
  /** The role assignments the identity needs before any app can read its secrets. */
  readonly grants: pulumi.Resource[];
  readonly vaultId: pulumi.Output<string>;
  /** The vault's secrets by name: id (a role's scope) and URI (an app's reference). */
  readonly vaultSecrets: Record<
    "redis-password" | "kafka-connection",
    { id: pulumi.Output<string>; uri: pulumi.Output<string> }
  >;

  constructor(name: string, args: AzureContainerAppsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:ContainerApps", name, {}, opts);
    const parent = { parent: this };
    const { config, resourceGroupName, location } = args;
    const client = authorization.getClientConfigOutput(parent);

    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-apps`,
      { resourceGroupName, location },
      parent,
    );
    const vault = new keyvault.Vault(
      `${name}-kv`,
      {
        resourceGroupName,
        location,
        properties: {
          tenantId: client.tenantId,
          sku: { family: "A", name: "standard" },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          enablePurgeProtection: true,
          publicNetworkAccess: "Disabled",
        },
      },
      parent,
    );
    new PrivateEndpoint(
      `${name}-kv`,
      {
        resourceGroupName,
        location,
        subnetId: args.endpointsSubnetId,
        vnetId: args.vnetId,
        targetId: vault.id,
        groupId: "vault",
        zoneName: "privatelink.vaultcore.azure.net",
      },
      parent,
    );
    const secret = (secretName: string, value: pulumi.Input<string>) =>
      new keyvault.Secret(
        `${name}-${secretName}`,
        {
          resourceGroupName,
          vaultName: vault.name,
          secretName,
          properties: { value: pulumi.secret(value) },
        },
        parent,
      );
    const secrets = {
      "api-keys": secret("api-keys", args.apiKeys),
      "redis-password": secret("redis-password", args.redisKey),
      "kafka-connection": secret("kafka-connection", args.kafkaConnectionString),
    };

    const grant = (suffix: string, scope: pulumi.Input<string>, role: string) =>
      new authorization.RoleAssignment(
        `${name}-${suffix}`,
        {
          principalId: identity.principalId,
          principalType: "ServicePrincipal",
          scope,
          roleDefinitionId: client.subscriptionId.apply((sub) => roleDefinitionId(sub, role)),
        },
        parent,
      );
    const grants = [
      grant("kv-secrets", vault.id, ROLE_DEFINITIONS.keyVaultSecretsUser),
      grant("eh-send", args.eventHubsNamespaceId, ROLE_DEFINITIONS.eventHubsDataSender),
      grant("eh-receive", args.eventHubsNamespaceId, ROLE_DEFINITIONS.eventHubsDataReceiver),
      // The collectors' remote-write is authorized on the data collection rule.
      grant("metrics", args.metricsRuleId, ROLE_DEFINITIONS.monitoringMetricsPublisher),
    ];

    const logs = new operationalinsights.Workspace(
      `${name}-logs`,
      {
        resourceGroupName,
        location,
        sku: { name: "PerGB2018" },
        retentionInDays: config.azure!.logRetentionDays,
      },
      parent,
    );
    const logKeys = operationalinsights.getSharedKeysOutput(
      { resourceGroupName, workspaceName: logs.name },
      parent,
    );
    const environment = new app.ManagedEnvironment(
      `${name}-env`,
      {
        resourceGroupName,
        location,
        vnetConfiguration: { infrastructureSubnetId: args.appsSubnetId, internal: true },
        workloadProfiles: [{ name: "Consumption", workloadProfileType: "Consumption" }],
        appLogsConfiguration: {
          destination: "log-analytics",
          logAnalyticsConfiguration: {
            customerId: logs.customerId,
            sharedKey: logKeys.apply((k) => k.primarySharedKey ?? ""),
          },
        },
      },
      parent,
    );

    const env = [
      ...regionEnvironment(config, args.redisEndpoint, args.kafkaBootstrap),
      { name: "KAFKA_SASL_MECHANISM", value: "plain" },
      { name: "KAFKA_SASL_USERNAME", value: "$ConnectionString" },
      { name: "KAFKA_SASL_PASSWORD", secretRef: "kafka-connection" },
      { name: "REDIS_PASSWORD", secretRef: "redis-password" },
      { name: "STRATA_API_KEYS", secretRef: "api-keys" },
    ];
    const appSecrets = Object.entries(secrets).map(([secretName, s]) => ({
      name: secretName,
      keyVaultUrl: s.properties.apply((p) => p.secretUri),
      identity: identity.id,
    }));
    const resources = {
      cpu: config.serving.cpu,
      memory: `${(config.serving.memoryMiB / 1024).toFixed(1)}Gi`,
    };
    const common = {
      resourceGroupName,
      location,
      managedEnvironmentId: environment.id,
      workloadProfileName: "Consumption",
      identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
    };
    const collector = (role: "serve" | "ingest", port: number) =>
      collectorContainer(config, role, port, args.metricsRemoteWriteUrl, identity.clientId);
    const serve = new app.ContainerApp(
      `${name}-serve`,
      {
        ...common,
        configuration: {
          secrets: appSecrets,
          activeRevisionsMode: "Single",
          // Reachable inside the VNet only (the environment is internal), HTTPS only, and only the
          // feature port: no additional port mappings, so the admin port stays inside the app.
          ingress: {
            external: true,
            targetPort: SERVE_PORT,
            transport: "http",
            allowInsecure: false,
          },
        },
        template: {
          containers: [
            {
              name: "serve",
              image: config.serving.image,
              command: SERVE_COMMAND,
              env: [...env, ...peerEnvironment(config, "serve")],
              resources,
              probes: [
                { type: "Liveness", httpGet: { path: "/health", port: SERVE_ADMIN_PORT } },
                { type: "Readiness", httpGet: { path: "/ready", port: SERVE_ADMIN_PORT } },
              ],
            },
            collector("serve", SERVE_ADMIN_PORT),
          ],
          scale: {
            minReplicas: config.serving.minReplicas,
            maxReplicas: config.serving.maxReplicas,
            rules: [
              {
                name: "cpu",
                custom: { type: "cpu", metadata: { type: "Utilization", value: "60" } },
              },
            ],
          },
        },
      },
      { parent: this, dependsOn: grants },
    );
    new app.ContainerApp(
      `${name}-ingest`,
      {
        ...common,
        configuration: { secrets: appSecrets, activeRevisionsMode: "Single" },
        template: {
          containers: [
            {
              name: "ingest",
              image: config.serving.image,
              command: INGEST_COMMAND,
              env: [
                ...env,
                ...peerEnvironment(config, "ingest"),
                ...offlineProjectionEnvironment(config),
                ...cdcIngestEnvironment(config),
              ],
              resources,
              probes: [
                { type: "Liveness", httpGet: { path: "/health", port: INGEST_METRICS_PORT } },
              ],
            },
            collector("ingest", INGEST_METRICS_PORT),
          ],
          scale: {
            minReplicas: config.serving.consumerReplicas,
            maxReplicas: config.serving.consumerReplicas,
          },
        },
      },
      { parent: this, dependsOn: grants },
    );
    this.servingUrl = serve.configuration.apply((c) => `https://${c?.ingress?.fqdn ?? ""}`);
    this.environmentId = environment.id;
    this.identityId = identity.id;
    this.vaultName = vault.name;
    this.jobEnv = jobEnvironment(env).filter((v) => v.name !== "STRATA_API_KEYS");
    this.jobSecrets = appSecrets.filter((s) => s.name !== "api-keys");
    this.grants = grants;
    this.vaultId = vault.id;
    const ref = (s: keyvault.Secret) => ({
      id: s.id,
      uri: s.properties.apply((p) => p.secretUri),
    });
    this.vaultSecrets = {
      "redis-password": ref(secrets["redis-password"]),
      "kafka-connection": ref(secrets["kafka-connection"]),
    };
    this.registerOutputs({ servingUrl: this.servingUrl });
  }
}
