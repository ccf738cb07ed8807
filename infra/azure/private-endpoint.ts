import network from "@pulumi/azure-native/network/index.js";
import privatedns from "@pulumi/azure-native/privatedns/index.js";
import * as pulumi from "@pulumi/pulumi";

export interface PrivateEndpointArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  subnetId: pulumi.Input<string>;
  vnetId: pulumi.Input<string>;
  /** The resource reached privately, its sub-resource, and the private DNS zone of that service. */
  targetId: pulumi.Input<string>;
  groupId: string;
  zoneName: string;
}

/**
 * A private endpoint in the region's VNet with its private DNS zone, so the service's usual
 * host name resolves to the private address inside the VNet while public access stays off.
 */
export class PrivateEndpoint extends pulumi.ComponentResource {
  constructor(name: string, args: PrivateEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:PrivateEndpoint", name, {}, opts);
    const parent = { parent: this };
    const endpoint = new network.PrivateEndpoint(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        subnet: { id: args.subnetId },
        privateLinkServiceConnections: [
          { name, privateLinkServiceId: args.targetId, groupIds: [args.groupId] },
        ],
      },
      parent,
    );
    const zone = new privatedns.PrivateZone(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        privateZoneName: args.zoneName,
        location: "Global",
      },
      parent,
    );
    new privatedns.VirtualNetworkLink(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        privateZoneName: zone.name,
        location: "Global",
        virtualNetwork: { id: args.vnetId },
        registrationEnabled: false,
      },
      parent,
    );
    new network.PrivateDnsZoneGroup(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        privateEndpointName: endpoint.name,
        privateDnsZoneConfigs: [
          { name: args.zoneName.replace(/\./g, "-"), privateDnsZoneId: zone.id },
        ],
      },
      parent,
    );
    this.registerOutputs({});
  }
}
