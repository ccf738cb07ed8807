import keyvault from "@pulumi/azure-native/keyvault/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { ncrontabSchedule } from "../peers.js";
import { driftEnvironment } from "../workload-env.js";
import {
  AzureFunctionApp,
  keyVaultReference,
  type AppEnv,
  type FunctionsHostStorage,
} from "./function-app.js";
import { ROLE_DEFINITIONS, WORKLOAD_ROLES } from "./roles.js";

export interface AzureDriftArgs {
  config: StackConfig;
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  environmentId: pulumi.Input<string>;
  host: FunctionsHostStorage;
  env: AppEnv[];
  vaultName: pulumi.Input<string>;
  redisPasswordSecret: { id: pulumi.Input<string>; uri: pulumi.Input<string> };
  argoToken: pulumi.Input<string>;
  workspaceId: pulumi.Input<string>;
  /** The workspace's Prometheus query endpoint. */
  prometheusUrl: pulumi.Input<string>;
}

/**
 * The drift evaluation (functions/drift/azure-timer.ts, a v4 `app.timer` on
 * STRATA_DRIFT_SCHEDULE, NCRONTAB) as a Function App whose identity holds Monitoring Data
 * Reader on the region's Azure Monitor workspace and Key Vault Secrets User on the Argo
 * token's secret and the Redis password's secret (its retraining claim), nothing else.
 */
export class AzureDrift extends pulumi.ComponentResource {
  constructor(name: string, args: AzureDriftArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:Drift", name, {}, opts);
    const parent = { parent: this };
    const { config } = args;
    const token = new keyvault.Secret(
      `${name}-argo-token`,
      {
        resourceGroupName: args.resourceGroupName,
        vaultName: args.vaultName,
        secretName: "argo-token",
        properties: { value: pulumi.secret(args.argoToken) },
      },
      parent,
    );
    new AzureFunctionApp(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        environmentId: args.environmentId,
        image: config.functions.azureDriftImage!,
        host: args.host,
        settings: [
          ...driftEnvironment(config, {
            prometheusUrl: args.prometheusUrl,
            env: args.env,
            // Resolved by the Functions host with the app's identity (functions/drift reads
            // STRATA_ARGO_TOKEN as given).
            token: {
              name: "STRATA_ARGO_TOKEN",
              value: keyVaultReference(token.properties.apply((p) => p.secretUri)),
            },
          }),
          { name: "REDIS_PASSWORD", value: keyVaultReference(args.redisPasswordSecret.uri) },
          { name: "STRATA_DRIFT_SCHEDULE", value: ncrontabSchedule(config.drift.schedule) },
        ],
        roles: [
          {
            suffix: "metrics",
            scope: args.workspaceId,
            role: WORKLOAD_ROLES.monitoringDataReader,
          },
          { suffix: "argo-secret", scope: token.id, role: ROLE_DEFINITIONS.keyVaultSecretsUser },
          {
            suffix: "redis-secret",
            scope: args.redisPasswordSecret.id,
            role: ROLE_DEFINITIONS.keyVaultSecretsUser,
          },
        ],
      },
      parent,
    );
    this.registerOutputs({});
  }
}
