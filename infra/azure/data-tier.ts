import eventhub from "@pulumi/azure-native/eventhub/index.js";
import redis from "@pulumi/azure-native/redis/index.js";
import * as pulumi from "@pulumi/pulumi";
import { backfillTopic, offlineControlTopic, offlineTopic } from "../offline/names.js";
import { registryTopic } from "../../shared/registry-log/registry-topics.js";
import type { StackConfig } from "../config.js";
import { PrivateEndpoint } from "./private-endpoint.js";

export interface AzureDataTierArgs {
  config: StackConfig;
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  vnetId: pulumi.Input<string>;
  endpointsSubnetId: pulumi.Input<string>;
}

/**
 * Azure Cache for Redis Premium, clustered, TLS only, with public network access off and a
 * private endpoint; an Event Hubs Premium namespace (the Kafka endpoint; log compaction needs
 * Premium or Dedicated) with the compacted changelog hub and the dead-letter hub, also private.
 */
export class AzureDataTier extends pulumi.ComponentResource {
  readonly redisEndpoint: pulumi.Output<string>;
  readonly redisKey: pulumi.Output<string>;
  readonly kafkaBootstrap: pulumi.Output<string>;
  readonly kafkaConnectionString: pulumi.Output<string>;
  readonly eventHubsNamespaceId: pulumi.Output<string>;
  readonly eventHubsNamespaceName: pulumi.Output<string>;

  constructor(name: string, args: AzureDataTierArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:DataTier", name, {}, opts);
    const parent = { parent: this };
    const { config, resourceGroupName, location } = args;
    const endpoint = (
      suffix: string,
      targetId: pulumi.Input<string>,
      groupId: string,
      zoneName: string,
    ) =>
      new PrivateEndpoint(
        `${name}-${suffix}`,
        {
          resourceGroupName,
          location,
          subnetId: args.endpointsSubnetId,
          vnetId: args.vnetId,
          targetId,
          groupId,
          zoneName,
        },
        parent,
      );

    const cache = new redis.Redis(
      `${name}-redis`,
      {
        resourceGroupName,
        location,
        sku: { name: "Premium", family: "P", capacity: Number(config.redis.nodeSize.slice(1)) },
        shardCount: config.redis.shards,
        replicasPerPrimary: config.redis.replicasPerShard,
        enableNonSslPort: false,
        minimumTlsVersion: "1.2",
        publicNetworkAccess: "Disabled",
        redisVersion: "6",
        zones: ["1", "2", "3"],
      },
      parent,
    );
    endpoint("redis", cache.id, "redisCache", "privatelink.redis.cache.windows.net");
    const keys = redis.listRedisKeysOutput({ name: cache.name, resourceGroupName }, parent);

    const namespace = new eventhub.Namespace(
      `${name}-kafka`,
      {
        resourceGroupName,
        location,
        sku: { name: "Premium", tier: "Premium", capacity: config.kafka.throughputUnits },
        kafkaEnabled: true,
        minimumTlsVersion: "1.2",
        publicNetworkAccess: "Disabled",
        zoneRedundant: true,
      },
      parent,
    );
    new eventhub.EventHub(
      `${name}-changelog`,
      {
        resourceGroupName,
        namespaceName: namespace.name,
        eventHubName: `strata.${config.project}.changelog`,
        partitionCount: config.kafka.partitions,
        retentionDescription: { cleanupPolicy: "Compact", tombstoneRetentionTimeInHours: 24 },
      },
      parent,
    );
    new eventhub.EventHub(
      `${name}-dlq`,
      {
        resourceGroupName,
        namespaceName: namespace.name,
        eventHubName: `strata.${config.project}.dlq`,
        partitionCount: Math.min(config.kafka.partitions, 4),
        retentionDescription: { cleanupPolicy: "Delete", retentionTimeInHours: 720 },
      },
      parent,
    );
    // The published registry (docs/registry.md), declared here because creating a topic through
    // Event Hubs' Kafka endpoint takes the Manage right, which no Strata process holds: `strata
    // apply` publishes into it and serving and the consumer follow it with Listen and Send only.
    // One partition (its order is its offset order), compacted (every apply has its own key).
    new eventhub.EventHub(
      `${name}-registry`,
      {
        resourceGroupName,
        namespaceName: namespace.name,
        eventHubName: registryTopic(config.project),
        partitionCount: 1,
        retentionDescription: { cleanupPolicy: "Compact", tombstoneRetentionTimeInHours: 24 },
      },
      parent,
    );
    // The offline store's topics, for the same reason: the projection the consumer produces
    // and the sink reads, the sink's control topic (one partition: Iceberg's coordination),
    // and the backfill coordinator's topic. Plain retention: all three are transient.
    const transient = (suffix: string, topic: string, partitionCount: number) =>
      new eventhub.EventHub(
        `${name}-${suffix}`,
        {
          resourceGroupName,
          namespaceName: namespace.name,
          eventHubName: topic,
          partitionCount,
          retentionDescription: { cleanupPolicy: "Delete", retentionTimeInHours: 168 },
        },
        parent,
      );
    transient("offline", offlineTopic(config.project), config.kafka.partitions);
    transient("offline-control", offlineControlTopic(config.project), 1);
    transient("backfill", backfillTopic(config.project), config.kafka.partitions);
    // Kafka clients authenticate with this rule's connection string (SASL PLAIN over TLS):
    // send and listen on the namespace, no manage rights.
    const rule = new eventhub.NamespaceAuthorizationRule(
      `${name}-strata`,
      {
        resourceGroupName,
        namespaceName: namespace.name,
        authorizationRuleName: "strata",
        rights: ["Listen", "Send"],
      },
      parent,
    );
    endpoint("kafka", namespace.id, "namespace", "privatelink.servicebus.windows.net");
    const ruleKeys = eventhub.listNamespaceKeysOutput(
      {
        resourceGroupName,
        namespaceName: namespace.name,
        authorizationRuleName: rule.name,
      },
      parent,
    );

    this.redisEndpoint = pulumi.interpolate`${cache.hostName}:${cache.sslPort}`;
    this.redisKey = pulumi.secret(keys.primaryKey);
    this.kafkaBootstrap = pulumi.interpolate`${namespace.name}.servicebus.windows.net:9093`;
    this.kafkaConnectionString = pulumi.secret(
      ruleKeys.primaryConnectionString.apply((s) => s ?? ""),
    );
    this.eventHubsNamespaceId = namespace.id;
    this.eventHubsNamespaceName = namespace.name;
    this.registerOutputs({
      redisEndpoint: this.redisEndpoint,
      kafkaBootstrap: this.kafkaBootstrap,
    });
  }
}
