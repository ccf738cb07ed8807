import monitor from "@pulumi/azure-native/monitor/index.js";
import resources from "@pulumi/azure-native/resources/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { resourceName, type RegionComponent, type RegionOutputs } from "../region-stack.js";
import type { PeerCredentials } from "../deploy-region.js";
import type { ReplicationFlow } from "../replication.js";
import { AzureContainerApps } from "./container-apps.js";
import { AzureDataTier } from "./data-tier.js";
import { AzureNetwork } from "./network.js";
import { AzureReconcile } from "./reconcile.js";
import { AzureReplication } from "./replication.js";

/** One Strata region on Azure: its resource group, VNet, Redis, Event Hubs, Container Apps and metrics. */
export class AzureRegion extends pulumi.ComponentResource implements RegionComponent {
  readonly outputs: RegionOutputs;

  constructor(
    config: StackConfig,
    apiKeys: pulumi.Input<string>,
    peerCredentials: PeerCredentials,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    const name = resourceName(config, config.region);
    super("strata:azure:Region", name, {}, opts);
    const parent = { parent: this };
    const location = config.region;
    const group = new resources.ResourceGroup(name, { location }, parent);
    const resourceGroupName = group.name;
    const network = new AzureNetwork(
      name,
      { resourceGroupName, location, network: config.network },
      parent,
    );
    const data = new AzureDataTier(
      name,
      {
        config,
        resourceGroupName,
        location,
        vnetId: network.vnetId,
        endpointsSubnetId: network.endpointsSubnetId,
      },
      parent,
    );
    const metrics = new monitor.AzureMonitorWorkspace(
      `${name}-metrics`,
      { resourceGroupName, location },
      parent,
    );
    const apps = new AzureContainerApps(
      name,
      {
        config,
        resourceGroupName,
        location,
        vnetId: network.vnetId,
        appsSubnetId: network.appsSubnetId,
        endpointsSubnetId: network.endpointsSubnetId,
        redisEndpoint: data.redisEndpoint,
        redisKey: data.redisKey,
        kafkaBootstrap: data.kafkaBootstrap,
        kafkaConnectionString: data.kafkaConnectionString,
        eventHubsNamespaceId: data.eventHubsNamespaceId,
        metricsWorkspaceId: metrics.id,
        apiKeys,
      },
      parent,
    );
    let replication: pulumi.Output<ReplicationFlow[]> = pulumi.output([]);
    // A lone region replicates nothing and has nothing to reconcile against.
    if (config.peers.length > 0) {
      const inEnvironment = {
        config,
        resourceGroupName,
        location,
        environmentId: apps.environmentId,
        identityId: apps.identityId,
        grants: apps.grants,
      };
      replication = new AzureReplication(
        name,
        {
          ...inEnvironment,
          peerCredentials,
          vaultName: apps.vaultName,
          eventHubsNamespaceName: data.eventHubsNamespaceName,
          kafkaBootstrap: data.kafkaBootstrap,
        },
        parent,
      ).flows;
      new AzureReconcile(
        `${name}-reconcile`,
        { ...inEnvironment, env: apps.jobEnv, secrets: apps.jobSecrets },
        parent,
      );
    }
    this.outputs = {
      cloud: pulumi.output("azure" as const),
      region: pulumi.output(config.region),
      servingUrl: apps.servingUrl,
      redisEndpoint: data.redisEndpoint,
      kafkaBootstrap: data.kafkaBootstrap,
      metricsEndpoint: metrics.metrics.apply((m) => m.prometheusQueryEndpoint),
      replication,
    };
    this.registerOutputs({ ...this.outputs });
  }
}
