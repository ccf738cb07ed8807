import monitor from "@pulumi/azure-native/monitor/index.js";
import resources from "@pulumi/azure-native/resources/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { resourceName, type RegionComponent, type RegionOutputs } from "../region-stack.js";
import type { PeerCredentials } from "../deploy-region.js";
import type { ReplicationFlow } from "../replication.js";
import authorization from "@pulumi/azure-native/authorization/index.js";
import { AzureBackfill } from "./backfill.js";
import { AzureCdc } from "./cdc.js";
import { AzureMetricsIngestion } from "./collector.js";
import { AzureContainerApps } from "./container-apps.js";
import { AzureDataTier } from "./data-tier.js";
import { AzureDrift } from "./drift.js";
import { FunctionsHostStorage } from "./function-app.js";
import { AzureNetwork } from "./network.js";
import { AzureOfflineSink } from "./offline-sink.js";
import { AzureOfflineStore } from "./offline-store.js";
import { AzureReconcile } from "./reconcile.js";
import { AzureReplication } from "./replication.js";

/** One Strata region on Azure: its resource group, VNet, Redis, Event Hubs, Container Apps and metrics. */
export class AzureRegion extends pulumi.ComponentResource implements RegionComponent {
  readonly outputs: RegionOutputs;

  constructor(
    config: StackConfig,
    apiKeys: pulumi.Input<string>,
    argoToken: pulumi.Input<string>,
    peerCredentials: PeerCredentials,
    cdcValues: Record<string, pulumi.Input<string>>,
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
    const ingestion = new AzureMetricsIngestion(
      `${name}-metrics-ingest`,
      { resourceGroupName, location, workspaceId: metrics.id },
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
        metricsRuleId: ingestion.ruleId,
        metricsRemoteWriteUrl: ingestion.remoteWriteUrl,
        apiKeys,
      },
      parent,
    );
    const inVnet = {
      resourceGroupName,
      location,
      vnetId: network.vnetId,
      endpointsSubnetId: network.endpointsSubnetId,
    };
    const offline = new AzureOfflineStore(`${name}-offline`, inVnet, parent);
    const client = authorization.getClientConfigOutput(parent);
    const sink = new AzureOfflineSink(
      `${name}-offline`,
      {
        config,
        resourceGroupName,
        location,
        environmentId: apps.environmentId,
        tenantId: client.tenantId,
        kafkaBootstrap: data.kafkaBootstrap,
        kafkaConnectionSecret: apps.vaultSecrets["kafka-connection"],
        warehouseContainerId: offline.containerId,
        warehouse: offline.warehouse,
      },
      parent,
    );
    if (config.cdc) {
      new AzureCdc(
        `${name}-cdc`,
        {
          config,
          resourceGroupName,
          location,
          environmentId: apps.environmentId,
          eventHubsNamespaceName: data.eventHubsNamespaceName,
          kafkaBootstrap: data.kafkaBootstrap,
          vaultName: apps.vaultName,
          kafkaConnectionSecret: apps.vaultSecrets["kafka-connection"],
          values: cdcValues,
        },
        parent,
      );
    }
    const host = new FunctionsHostStorage(`${name}-fnhost`, inVnet, parent);
    const inEnvironmentOf = {
      config,
      resourceGroupName,
      location,
      environmentId: apps.environmentId,
      host,
      env: apps.jobEnv,
    };
    const backfill = new AzureBackfill(
      `${name}-backfill`,
      {
        ...inEnvironmentOf,
        vaultSecrets: apps.vaultSecrets,
        warehouseContainerId: offline.containerId,
        warehouse: offline.warehouse,
      },
      parent,
    );
    const prometheusUrl = metrics.metrics.apply((m) => m?.prometheusQueryEndpoint ?? "");
    new AzureDrift(
      `${name}-drift`,
      {
        ...inEnvironmentOf,
        vaultName: apps.vaultName,
        redisPasswordSecret: apps.vaultSecrets["redis-password"],
        argoToken,
        workspaceId: metrics.id,
        prometheusUrl,
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
      metricsEndpoint: prometheusUrl,
      replication,
      offlineWarehouse: offline.warehouse,
      offlineConnector: pulumi.output(sink.connectorName),
      backfillEndpoint: backfill.url,
      driftSchedule: pulumi.output(config.drift.schedule),
    };
    this.registerOutputs({ ...this.outputs });
  }
}
