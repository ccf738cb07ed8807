import network from "@pulumi/azure-native/network/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkConfig } from "../config.js";
import { subnetCidr } from "../cidr.js";

export interface AzureNetworkArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  network: NetworkConfig;
}

/**
 * The region's VNet: a subnet delegated to the Container Apps environment and one for private
 * endpoints (Redis, Event Hubs, Key Vault), or an existing VNet's two subnets, in that order.
 */
export class AzureNetwork extends pulumi.ComponentResource {
  readonly vnetId: pulumi.Output<string>;
  readonly appsSubnetId: pulumi.Output<string>;
  readonly endpointsSubnetId: pulumi.Output<string>;

  constructor(name: string, args: AzureNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:Network", name, {}, opts);
    const parent = { parent: this };
    if (args.network.mode === "existing") {
      this.vnetId = pulumi.output(args.network.networkId);
      this.appsSubnetId = pulumi.output(args.network.subnetIds[0]!);
      this.endpointsSubnetId = pulumi.output(args.network.subnetIds[1]!);
      this.registerOutputs({ vnetId: this.vnetId });
      return;
    }
    const cidr = args.network.cidr;
    const vnet = new network.VirtualNetwork(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        addressSpace: { addressPrefixes: [cidr] },
      },
      parent,
    );
    const apps = new network.Subnet(
      `${name}-apps`,
      {
        resourceGroupName: args.resourceGroupName,
        virtualNetworkName: vnet.name,
        addressPrefix: subnetCidr(cidr, 0),
        delegations: [{ name: "container-apps", serviceName: "Microsoft.App/environments" }],
      },
      parent,
    );
    const endpoints = new network.Subnet(
      `${name}-endpoints`,
      {
        resourceGroupName: args.resourceGroupName,
        virtualNetworkName: vnet.name,
        addressPrefix: subnetCidr(cidr, 1),
        privateEndpointNetworkPolicies: "Enabled",
      },
      parent,
    );
    this.vnetId = vnet.id;
    this.appsSubnetId = apps.id;
    this.endpointsSubnetId = endpoints.id;
    this.registerOutputs({ vnetId: this.vnetId });
  }
}
