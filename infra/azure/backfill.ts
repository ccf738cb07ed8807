import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { backfillEnvironment } from "../workload-env.js";
import {
  AzureFunctionApp,
  appSettings,
  type AppEnv,
  type FunctionsHostStorage,
} from "./function-app.js";
import { ROLE_DEFINITIONS, WORKLOAD_ROLES } from "./roles.js";

export interface AzureBackfillArgs {
  config: StackConfig;
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  environmentId: pulumi.Input<string>;
  host: FunctionsHostStorage;
  /** The consumer's job variables and the vault secrets they reference. */
  env: AppEnv[];
  vaultSecrets: Record<
    "redis-password" | "kafka-connection",
    { id: pulumi.Input<string>; uri: pulumi.Input<string> }
  >;
  warehouseContainerId: pulumi.Input<string>;
  warehouse: pulumi.Input<string>;
}

/**
 * The backfill coordinator (functions/backfill/azure.ts, an HTTP trigger) as a Function App:
 * its identity reads the warehouse container (Storage Blob Data Reader) and the Redis password
 * and Event Hubs connection string (Key Vault Secrets User on those two secrets), no more.
 */
export class AzureBackfill extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: AzureBackfillArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:Backfill", name, {}, opts);
    const { config } = args;
    const uris = Object.fromEntries(
      Object.entries(args.vaultSecrets).map(([secretName, s]) => [secretName, s.uri]),
    );
    const functionApp = new AzureFunctionApp(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        environmentId: args.environmentId,
        image: config.functions.azureBackfillImage!,
        host: args.host,
        settings: [
          ...appSettings(args.env, uris),
          ...backfillEnvironment(config, args.env, args.warehouse),
        ],
        roles: [
          {
            suffix: "warehouse",
            scope: args.warehouseContainerId,
            role: WORKLOAD_ROLES.storageBlobDataReader,
          },
          {
            suffix: "redis-secret",
            scope: args.vaultSecrets["redis-password"].id,
            role: ROLE_DEFINITIONS.keyVaultSecretsUser,
          },
          {
            suffix: "kafka-secret",
            scope: args.vaultSecrets["kafka-connection"].id,
            role: ROLE_DEFINITIONS.keyVaultSecretsUser,
          },
        ],
      },
      { parent: this },
    );
    // functions/backfill/azure.ts: app.http("backfill", { route: "backfill/{action}" }).
    this.url = pulumi.interpolate`${functionApp.url}/api/backfill`;
    this.registerOutputs({ url: this.url });
  }
}
