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
import { AwsDataTier } from "./data-tier.js";
import { AwsNetwork } from "./network.js";
import { AwsReconcile } from "./reconcile.js";
import { AwsReplication } from "./replication.js";
import { AwsServingTier } from "./serving-tier.js";

/** One Strata region on AWS: network, Redis, MSK, the Fargate tiers and a Prometheus workspace. */
export class AwsRegion extends pulumi.ComponentResource implements RegionComponent {
  readonly outputs: RegionOutputs;

  constructor(
    config: StackConfig,
    apiKeys: pulumi.Input<string>,
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
      },
      parent,
    );
    const prometheus = new aws.amp.Workspace(`${name}-metrics`, { alias: name }, parent);
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
    };
    this.registerOutputs({ ...this.outputs });
  }
}
