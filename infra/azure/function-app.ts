import managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import storage from "@pulumi/azure-native/storage/index.js";
import web from "@pulumi/azure-native/web/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { EnvVar } from "../workload-env.js";
import { grant } from "./grant.js";
import { PrivateEndpoint } from "./private-endpoint.js";
import { WORKLOAD_ROLES } from "./roles.js";

/** A Container Apps variable: a value, or a reference to one of the app's vault secrets. */
export type AppEnv = { name: string; value?: pulumi.Input<string>; secretRef?: string };

/**
 * App settings from Container Apps variables: a secret reference becomes a Key Vault
 * reference (`@Microsoft.KeyVault(SecretUri=...)`), resolved with the app's identity.
 */
export function appSettings(
  env: readonly AppEnv[],
  secretUris: Record<string, pulumi.Input<string>>,
): EnvVar[] {
  return env.map((v) => {
    if (v.secretRef === undefined) return { name: v.name, value: v.value ?? "" };
    const uri = secretUris[v.secretRef];
    if (uri === undefined) throw new Error(`no vault secret ${v.secretRef} for ${v.name}`);
    return { name: v.name, value: keyVaultReference(uri) };
  });
}

export function keyVaultReference(uri: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.interpolate`@Microsoft.KeyVault(SecretUri=${uri})`;
}

export interface FunctionsHostArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  vnetId: pulumi.Input<string>;
  endpointsSubnetId: pulumi.Input<string>;
}

/**
 * The Functions host's own storage (timer leases, host keys), apart from the warehouse so that
 * the functions' identities hold nothing on the warehouse account but what each needs: Entra
 * ID only, TLS 1.2, no public access, a private endpoint for blobs.
 */
export class FunctionsHostStorage extends pulumi.ComponentResource {
  readonly accountId: pulumi.Output<string>;
  readonly accountName: pulumi.Output<string>;

  constructor(name: string, args: FunctionsHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:FunctionsHostStorage", name, {}, opts);
    const parent = { parent: this };
    const account = new storage.StorageAccount(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: "StorageV2",
        sku: { name: "Standard_LRS" },
        enableHttpsTrafficOnly: true,
        minimumTlsVersion: "TLS1_2",
        allowBlobPublicAccess: false,
        allowSharedKeyAccess: false,
        publicNetworkAccess: "Disabled",
        networkRuleSet: { defaultAction: "Deny", bypass: "None" },
      },
      parent,
    );
    new PrivateEndpoint(
      `${name}-blob`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        subnetId: args.endpointsSubnetId,
        vnetId: args.vnetId,
        targetId: account.id,
        groupId: "blob",
        zoneName: "privatelink.blob.core.windows.net",
      },
      parent,
    );
    this.accountId = account.id;
    this.accountName = account.name;
    this.registerOutputs({});
  }
}

export interface AzureFunctionAppArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  environmentId: pulumi.Input<string>;
  /** A Functions v4 Node image whose package.json `main` registers this app's functions. */
  image: string;
  host: FunctionsHostStorage;
  settings: EnvVar[];
  /** The identity's roles besides its host storage: each on one resource. */
  roles: { suffix: string; scope: pulumi.Input<string>; role: string }[];
}

/**
 * An Azure Functions (v4, Node) app hosted in the region's internal Container Apps
 * environment (so it reaches Redis, Event Hubs and the vault through the VNet's private
 * endpoints), with a user-assigned identity of its own: the roles it is given, Storage Blob
 * Data Owner on the host's storage account (what identity-based AzureWebJobsStorage needs),
 * and nothing else. HTTPS only.
 */
export class AzureFunctionApp extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly principalId: pulumi.Output<string>;

  constructor(name: string, args: AzureFunctionAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:FunctionApp", name, {}, opts);
    const parent = { parent: this };
    const identity = new managedidentity.UserAssignedIdentity(
      name,
      { resourceGroupName: args.resourceGroupName, location: args.location },
      parent,
    );
    const grants = [
      grant(
        `${name}-host`,
        identity.principalId,
        args.host.accountId,
        WORKLOAD_ROLES.storageBlobDataOwner,
        parent,
      ),
      ...args.roles.map((r) =>
        grant(`${name}-${r.suffix}`, identity.principalId, r.scope, r.role, parent),
      ),
    ];
    const site = new web.WebApp(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: "functionapp,linux,container,azurecontainerapps",
        managedEnvironmentId: args.environmentId,
        httpsOnly: true,
        identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
        keyVaultReferenceIdentity: identity.id,
        siteConfig: {
          linuxFxVersion: `DOCKER|${args.image}`,
          minTlsVersion: "1.2",
          ftpsState: "Disabled",
          appSettings: [
            { name: "FUNCTIONS_EXTENSION_VERSION", value: "~4" },
            { name: "FUNCTIONS_WORKER_RUNTIME", value: "node" },
            { name: "AzureWebJobsStorage__accountName", value: args.host.accountName },
            { name: "AzureWebJobsStorage__credential", value: "managedidentity" },
            { name: "AzureWebJobsStorage__clientId", value: identity.clientId },
            // DefaultAzureCredential in the code picks this identity.
            { name: "AZURE_CLIENT_ID", value: identity.clientId },
            ...args.settings,
          ],
        },
      },
      { parent: this, dependsOn: grants },
    );
    this.url = pulumi.interpolate`https://${site.defaultHostName}`;
    this.principalId = identity.principalId;
    this.registerOutputs({ url: this.url });
  }
}
