import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import {
  resourceName,
  SERVE_ADMIN_PORT,
  SERVE_PORT,
  type RegionComponent,
  type RegionOutputs,
} from "../region-stack.js";
import type { PeerCredentials } from "../deploy-region.js";
import type { ReplicationFlow } from "../replication.js";
import { AwsBackfill } from "./backfill.js";
import { AwsCdc } from "./cdc.js";
import { AwsDataTier } from "./data-tier.js";
import { AwsDrift } from "./drift.js";
import { AwsNetwork } from "./network.js";
import { AwsOfflineSink } from "./offline-sink.js";
import { AwsOfflineStore } from "./offline-store.js";
import { AwsReconcile } from "./reconcile.js";
import { AwsReplication } from "./replication.js";
import { AwsServingTier } from "./serving-tier.js";

/**
 * One Strata region on AWS: network, Redis, MSK, the Fargate tiers with their metrics
 * collectors, a Prometheus workspace, the offline store and its sink, the backfill and drift
 * functions, and with `strata:cdc` the Debezium connectors.
 */
export class AwsRegion extends pulumi.ComponentResource implements RegionComponent {
  readonly outputs: RegionOutputs;

  constructor(
    config: StackConfig,
    apiKeys: pulumi.Input<string>,
    argoToken: pulumi.Input<string>,
    peerCredentials: PeerCredentials,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    const name = resourceName(config, config.region);
    super("strata:aws:Region", name, {}, opts);
    const parent = { parent: this };
    const network = new AwsNetwork(
      name,
      { network: config.network, zones: config.aws!.zones },
      parent,
    );
    // The serving tier's load balancer: TLS from inside the VPC; to the tasks, the feature port
    // (traffic) and the admin port (health checks) only.
    const tcp = (port: number, description: string) => ({
      protocol: "tcp",
      fromPort: port,
      toPort: port,
      description,
    });
    const lb = new aws.ec2.SecurityGroup(
      `${name}-lb`,
      {
        vpcId: network.vpcId,
        description: "Strata serving load balancer",
        ingress: [{ ...tcp(443, "TLS from the VPC"), cidrBlocks: [network.cidr] }],
        egress: [
          { ...tcp(SERVE_PORT, "feature API of the tasks"), cidrBlocks: [network.cidr] },
          { ...tcp(SERVE_ADMIN_PORT, "health checks of the tasks"), cidrBlocks: [network.cidr] },
        ],
      },
      parent,
    );
    // Strata's tasks: the serving tier takes traffic from the load balancer only, the consumer
    // takes none; both reach Redis, Kafka and AWS APIs.
    const tasks = new aws.ec2.SecurityGroup(
      `${name}-tasks`,
      {
        vpcId: network.vpcId,
        description: "Strata tasks",
        ingress: [
          { ...tcp(SERVE_PORT, "feature API from the load balancer"), securityGroups: [lb.id] },
          {
            ...tcp(SERVE_ADMIN_PORT, "health checks from the load balancer"),
            securityGroups: [lb.id],
          },
        ],
        egress: [
          {
            protocol: "-1",
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ["0.0.0.0/0"],
            description: "Redis, Kafka, AWS APIs",
          },
        ],
      },
      parent,
    );
    const data = new AwsDataTier(
      name,
      {
        vpcId: network.vpcId,
        subnetIds: network.privateSubnetIds,
        clientSecurityGroupId: tasks.id,
        redis: config.redis,
        kafka: config.kafka,
      },
      parent,
    );
    const prometheus = new aws.amp.Workspace(`${name}-metrics`, { alias: name }, parent);
    const serving = new AwsServingTier(
      name,
      {
        config,
        vpcId: network.vpcId,
        subnetIds: network.privateSubnetIds,
        tasksSecurityGroupId: tasks.id,
        loadBalancerSecurityGroupId: lb.id,
        redisEndpoint: data.redisEndpoint,
        redisPasswordSecretArn: data.redisPasswordSecretArn,
        kafkaBootstrap: data.kafkaBootstrap,
        kafkaClusterArn: data.kafkaClusterArn,
        apiKeys,
        metricsWorkspaceArn: prometheus.arn,
        metricsEndpoint: prometheus.prometheusEndpoint,
      },
      parent,
    );
    const inVpc = {
      config,
      subnetIds: network.privateSubnetIds,
      tasksSecurityGroupId: tasks.id,
    };
    const offline = new AwsOfflineStore(`${name}-offline`, config, parent);
    const sink = new AwsOfflineSink(
      `${name}-offline`,
      {
        ...inVpc,
        kafkaBootstrap: data.kafkaBootstrap,
        kafkaClusterArn: data.kafkaClusterArn,
        bucketArn: offline.bucketArn,
        databaseArn: offline.databaseArn,
        warehouse: offline.warehouse,
      },
      parent,
    );
    if (config.cdc) {
      new AwsCdc(
        `${name}-cdc`,
        {
          ...inVpc,
          kafkaBootstrap: data.kafkaBootstrap,
          kafkaClusterArn: data.kafkaClusterArn,
          artifactsBucket: offline.bucketName,
        },
        parent,
      );
    }
    const backfill = new AwsBackfill(
      `${name}-backfill`,
      {
        ...inVpc,
        kafkaClusterArn: data.kafkaClusterArn,
        bucketArn: offline.bucketArn,
        databaseArn: offline.databaseArn,
        warehouse: offline.warehouse,
        environment: serving.jobEnvironment,
        redisPassword: data.redisPassword,
      },
      parent,
    );
    new AwsDrift(
      `${name}-drift`,
      {
        ...inVpc,
        workspaceArn: prometheus.arn,
        prometheusEndpoint: prometheus.prometheusEndpoint,
        argoToken,
        environment: serving.jobEnvironment,
        redisPassword: data.redisPassword,
      },
      parent,
    );
    let replication: pulumi.Output<ReplicationFlow[]> = pulumi.output([]);
    // A lone region replicates nothing and has nothing to reconcile against.
    if (config.peers.length > 0) {
      const links = {
        config,
        subnetIds: network.privateSubnetIds,
        tasksSecurityGroupId: tasks.id,
        kafkaClusterArn: data.kafkaClusterArn,
        ecsClusterArn: serving.clusterArn,
      };
      replication = new AwsReplication(
        name,
        { ...links, peerCredentials, kafkaBootstrap: data.kafkaBootstrap },
        parent,
      ).flows;
      new AwsReconcile(
        `${name}-reconcile`,
        {
          ...links,
          environment: serving.jobEnvironment,
          secrets: serving.jobSecrets,
          secretArns: [data.redisPasswordSecretArn],
        },
        parent,
      );
    }
    this.outputs = {
      cloud: pulumi.output("aws" as const),
      region: pulumi.output(config.region),
      servingUrl: serving.servingUrl,
      redisEndpoint: data.redisEndpoint,
      kafkaBootstrap: data.kafkaBootstrap,
      metricsEndpoint: prometheus.prometheusEndpoint,
      replication,
      offlineWarehouse: offline.warehouse,
      offlineConnector: pulumi.output(sink.connectorName),
      backfillEndpoint: backfill.url,
      driftSchedule: pulumi.output(config.drift.schedule),
    };
    this.registerOutputs({ ...this.outputs });
  }
}
