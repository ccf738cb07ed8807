import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import type { PeerCredentials } from "../deploy-region.js";
import { usesMskReplicator, type PeerRegion } from "../peers.js";
import {
  MIRROR_MAKER_COMMAND,
  mirrorMakerProperties,
  peerEndpoint,
  replicatedTopics,
  replicationFlows,
  topicPattern,
  type ReplicationFlow,
} from "../replication.js";
import {
  assumeRolePolicy,
  executionPolicy,
  mirrorMakerTaskPolicy,
  replicatorPolicy,
} from "./policies.js";
import { fargateTaskDefinition, fargateTaskRoles } from "./fargate-task.js";

export interface AwsReplicationArgs {
  config: StackConfig;
  peerCredentials: PeerCredentials;
  subnetIds: pulumi.Input<string>[];
  /** Strata's tasks' group: the one MSK admits (port 9098), and whose egress reaches the peers. */
  tasksSecurityGroupId: pulumi.Input<string>;
  kafkaClusterArn: pulumi.Input<string>;
  kafkaBootstrap: pulumi.Input<string>;
  ecsClusterArn: pulumi.Input<string>;
}

/**
 * Inbound replication from every peer into this region's MSK: an MSK Replicator when the peer
 * is MSK too (IAM on both ends, TLS always), otherwise MirrorMaker 2 as a Fargate service
 * (TLS to both clusters; the peer's credential from Secrets Manager, IAM to this MSK).
 */
export class AwsReplication extends pulumi.ComponentResource {
  readonly flows: pulumi.Output<ReplicationFlow[]>;

  constructor(name: string, args: AwsReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:aws:Replication", name, {}, opts);
    const { config } = args;
    const flows: pulumi.Output<ReplicationFlow[]>[] = [];
    for (const peer of config.peers) {
      const planned = replicationFlows(config.cloud, config.project, [peer]);
      if (usesMskReplicator(config.cloud, peer)) {
        const alias = this.mskReplicator(`${name}-from-${peer.region}`, peer, args);
        // MSK names the copies after an alias it generates: the real names come from the replicator.
        flows.push(
          alias.apply((a) => planned.map((f) => ({ ...f, targetTopic: `${a}.${f.sourceTopic}` }))),
        );
      } else {
        this.mirrorMaker(`${name}-from-${peer.region}`, peer, args);
        flows.push(pulumi.output(planned));
      }
    }
    this.flows = flows.length === 0 ? pulumi.output([]) : pulumi.all(flows).apply((f) => f.flat());
    this.registerOutputs({ flows: this.flows });
  }

  private mskReplicator(
    name: string,
    peer: PeerRegion,
    args: AwsReplicationArgs,
  ): pulumi.Output<string> {
    const parent = { parent: this };
    const role = new aws.iam.Role(
      name,
      { assumeRolePolicy: assumeRolePolicy("kafka.amazonaws.com") },
      parent,
    );
    const policy = new aws.iam.RolePolicy(
      name,
      {
        role: role.id,
        policy: pulumi
          .output(args.kafkaClusterArn)
          .apply((target) =>
            JSON.stringify(
              replicatorPolicy(peer.clusterArn!, target, replicatedTopics(args.config.project)),
            ),
          ),
      },
      parent,
    );
    const replicator = new aws.msk.Replicator(
      name,
      {
        replicatorName: name.slice(0, 64),
        description: `Strata: ${peer.region} changelog into ${args.config.region}`,
        serviceExecutionRoleArn: role.arn,
        kafkaClusters: [
          // Cross-region: the peer's MSK has multi-VPC connectivity and a cluster policy for
          // kafka.amazonaws.com (its own stack's part); no security group on the source side.
          {
            amazonMskCluster: { mskClusterArn: peer.clusterArn! },
            vpcConfig: { subnetIds: peer.subnetIds! },
          },
          {
            amazonMskCluster: { mskClusterArn: args.kafkaClusterArn },
            vpcConfig: {
              subnetIds: args.subnetIds,
              securityGroupsIds: [args.tasksSecurityGroupId],
            },
          },
        ],
        replicationInfoList: {
          sourceKafkaClusterArn: peer.clusterArn!,
          targetKafkaClusterArn: args.kafkaClusterArn,
          targetCompressionType: "NONE",
          topicReplications: [
            {
              topicsToReplicates: [topicPattern(args.config.project)],
              // Prefixed: the copy never matches the pattern again, so nothing loops back.
              topicNameConfiguration: { type: "PREFIXED_WITH_SOURCE_CLUSTER_ALIAS" },
              // The changelog is compacted: a new region needs it from the start to converge.
              startingPosition: { type: "EARLIEST" },
              copyTopicConfigurations: true,
              copyAccessControlListsForTopics: false,
              detectAndCopyNewTopics: true,
            },
          ],
          // Each region's consumer group is its own: no offsets are carried across.
          consumerGroupReplications: [
            {
              consumerGroupsToReplicates: [],
              synchroniseConsumerGroupOffsets: false,
              detectAndCopyNewConsumerGroups: false,
            },
          ],
        },
      },
      { parent: this, dependsOn: [policy] },
    );
    return replicator.replicationInfoList.apply((info) => info.sourceKafkaClusterAlias ?? "");
  }

  private mirrorMaker(name: string, peer: PeerRegion, args: AwsReplicationArgs): void {
    const parent = { parent: this };
    const { config } = args;
    const logs = new aws.cloudwatch.LogGroup(
      name,
      { retentionInDays: config.aws!.logRetentionDays },
      parent,
    );
    const credential = new aws.secretsmanager.Secret(
      name,
      { description: `Strata: credential of peer ${peer.region} (${peer.auth})` },
      parent,
    );
    new aws.secretsmanager.SecretVersion(
      name,
      {
        secretId: credential.id,
        secretString: pulumi.secret(args.peerCredentials[peer.region]!),
      },
      parent,
    );
    const { execution, task } = fargateTaskRoles(
      name,
      {
        execution: pulumi
          .all([logs.arn, credential.arn])
          .apply(([log, secret]) =>
            JSON.stringify(executionPolicy(config.mirrorMakerImage, [log], [secret])),
          ),
        task: pulumi
          .output(args.kafkaClusterArn)
          .apply((arn) => JSON.stringify(mirrorMakerTaskPolicy(arn, peer.region, config.project))),
      },
      parent,
    );
    const source = peerEndpoint(peer);
    const secrets =
      peer.auth === "mtls"
        ? [
            // The secret is {"certificate": PEM, "key": PEM}: ECS picks each JSON key.
            {
              name: "PEER_CREDENTIAL_CERT",
              valueFrom: pulumi.interpolate`${credential.arn}:certificate::`,
            },
            { name: "PEER_CREDENTIAL_KEY", valueFrom: pulumi.interpolate`${credential.arn}:key::` },
          ]
        : [{ name: "PEER_CREDENTIAL", valueFrom: credential.arn }];
    const properties = pulumi.output(args.kafkaBootstrap).apply((bootstrap) =>
      mirrorMakerProperties(config.project, source, {
        alias: config.region,
        bootstrap,
        auth: "msk-iam",
      }),
    );
    const definition = fargateTaskDefinition(
      name,
      { execution, task },
      {
        name: "mirrormaker2",
        image: config.mirrorMakerImage,
        command: MIRROR_MAKER_COMMAND,
        essential: true,
        user: "1000",
        environment: [
          { name: "MM2_PROPERTIES", value: properties },
          ...(peer.caCertificate ? [{ name: "PEER_CA", value: peer.caCertificate }] : []),
        ],
        secrets,
      },
      { group: logs.name, region: config.region, streamPrefix: "mm2" },
      parent,
    );
    new aws.ecs.Service(
      name,
      {
        cluster: args.ecsClusterArn,
        taskDefinition: definition.arn,
        launchType: "FARGATE",
        // One dedicated MM2 per peer: its tasks rebalance among themselves, one is enough.
        desiredCount: 1,
        networkConfiguration: {
          subnets: args.subnetIds,
          securityGroups: [args.tasksSecurityGroupId],
          assignPublicIp: false,
        },
      },
      parent,
    );
  }
}
