import storage from "@pulumi/azure-native/storage/index.js";
import * as pulumi from "@pulumi/pulumi";
import { WAREHOUSE_PREFIX } from "../offline/names.js";
import { PrivateEndpoint } from "./private-endpoint.js";

export interface AzureOfflineStoreArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  vnetId: pulumi.Input<string>;
  endpointsSubnetId: pulumi.Input<string>;
}

/** The container the warehouse lives in. */
export const WAREHOUSE_CONTAINER = "offline";

/**
 * The region's offline warehouse on ADLS Gen2: a storage account with the hierarchical
 * namespace (atomic renames: what Iceberg's Hadoop catalog commits with), HTTPS and TLS 1.2
 * only, no public blob access, no shared keys (Entra ID only), no public network access (a
 * private endpoint for its dfs endpoint in the VNet), and one private container.
 */
export class AzureOfflineStore extends pulumi.ComponentResource {
  /** The container's resource id: the scope of the sink's and the backfill's roles. */
  readonly containerId: pulumi.Output<string>;
  readonly accountName: pulumi.Output<string>;
  /** `abfss://offline@<account>.dfs.core.windows.net/warehouse`. */
  readonly warehouse: pulumi.Output<string>;

  constructor(name: string, args: AzureOfflineStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:OfflineStore", name, {}, opts);
    const parent = { parent: this };
    const account = new storage.StorageAccount(
      `${name}-warehouse`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: "StorageV2",
        sku: { name: "Standard_ZRS" },
        isHnsEnabled: true,
        enableHttpsTrafficOnly: true,
        minimumTlsVersion: "TLS1_2",
        allowBlobPublicAccess: false,
        allowSharedKeyAccess: false,
        publicNetworkAccess: "Disabled",
        networkRuleSet: { defaultAction: "Deny", bypass: "None" },
        encryption: {
          keySource: "Microsoft.Storage",
          requireInfrastructureEncryption: true,
          services: { blob: { enabled: true, keyType: "Account" } },
        },
      },
      parent,
    );
    const container = new storage.BlobContainer(
      `${name}-warehouse`,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: account.name,
        containerName: WAREHOUSE_CONTAINER,
        publicAccess: "None",
      },
      parent,
    );
    new PrivateEndpoint(
      `${name}-dfs`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        subnetId: args.endpointsSubnetId,
        vnetId: args.vnetId,
        targetId: account.id,
        groupId: "dfs",
        zoneName: "privatelink.dfs.core.windows.net",
      },
      parent,
    );
    this.containerId = container.id;
    this.accountName = account.name;
    this.warehouse = pulumi.interpolate`abfss://${WAREHOUSE_CONTAINER}@${account.name}.dfs.core.windows.net/${WAREHOUSE_PREFIX}`;
    this.registerOutputs({ warehouse: this.warehouse });
  }
}
