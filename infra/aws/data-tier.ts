import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { KafkaSizing, RedisSizing } from "../config.js";

export interface AwsDataTierArgs {
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string>[];
  /** The only security group allowed to reach Redis and Kafka: Strata's tasks. */
  clientSecurityGroupId: pulumi.Input<string>;
  redis: RedisSizing;
  kafka: KafkaSizing;
}

/**
 * ElastiCache for Redis in cluster mode and Amazon MSK: TLS in transit and encryption at rest
 * on both, RBAC on Redis (a Strata user whose password lives in Secrets Manager), IAM auth on
 * MSK, automatic failover, and security groups that admit only Strata's tasks.
 */
export class AwsDataTier extends pulumi.ComponentResource {
  readonly redisEndpoint: pulumi.Output<string>;
  readonly redisPasswordSecretArn: pulumi.Output<string>;
  /** The Redis user's password (secret): for Lambda, which injects no Secrets Manager values. */
  readonly redisPassword: pulumi.Output<string>;
  readonly kafkaBootstrap: pulumi.Output<string>;
  readonly kafkaClusterArn: pulumi.Output<string>;

  constructor(name: string, args: AwsDataTierArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:aws:DataTier", name, {}, opts);
    const parent = { parent: this };
    const onlyFromTasks = (port: number, description: string) => ({
      protocol: "tcp",
      fromPort: port,
      toPort: port,
      securityGroups: [args.clientSecurityGroupId],
      description,
    });

    const redisSg = new aws.ec2.SecurityGroup(
      `${name}-redis`,
      {
        vpcId: args.vpcId,
        description: "Redis: Strata tasks only",
        ingress: [onlyFromTasks(6379, "Redis TLS from Strata tasks")],
      },
      parent,
    );
    const password = aws.secretsmanager.getRandomPasswordOutput(
      { passwordLength: 40, excludePunctuation: true },
      parent,
    );
    const redisSecret = new aws.secretsmanager.Secret(
      `${name}-redis-password`,
      { description: "Password of the Strata Redis user" },
      parent,
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-redis-password`,
      {
        secretId: redisSecret.id,
        secretString: pulumi.secret(password.apply((p) => p.randomPassword)),
      },
      parent,
    );
    // RBAC: the default user is disabled; Strata connects as its own user.
    const disabledDefault = new aws.elasticache.User(
      `${name}-default`,
      {
        userId: `${name}-default`.slice(0, 40),
        userName: "default",
        engine: "redis",
        accessString: "off ~* -@all",
        authenticationMode: { type: "no-password-required" },
      },
      parent,
    );
    const strataUser = new aws.elasticache.User(
      `${name}-strata`,
      {
        userId: `${name}-strata`.slice(0, 40),
        userName: "strata",
        engine: "redis",
        // Strata's keys (fs:{...}), its scripts, and client tracking for the hot cache.
        accessString:
          "on ~fs:* &__redis__:invalidate +@all -@dangerous +client|tracking +client|id +cluster|slots +cluster|shards +info",
        authenticationMode: {
          type: "password",
          passwords: [pulumi.secret(password.apply((p) => p.randomPassword))],
        },
      },
      parent,
    );
    const users = new aws.elasticache.UserGroup(
      `${name}-users`,
      {
        userGroupId: `${name}-users`.slice(0, 40),
        engine: "redis",
        userIds: [disabledDefault.userId, strataUser.userId],
      },
      parent,
    );
    const subnets = new aws.elasticache.SubnetGroup(
      `${name}-redis`,
      { subnetIds: args.subnetIds },
      parent,
    );
    const redis = new aws.elasticache.ReplicationGroup(
      `${name}-redis`,
      {
        description: "Strata online store",
        engine: "redis",
        engineVersion: "7.1",
        nodeType: args.redis.nodeSize,
        clusterMode: "enabled",
        parameterGroupName: "default.redis7.cluster.on",
        numNodeGroups: args.redis.shards,
        replicasPerNodeGroup: args.redis.replicasPerShard,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        atRestEncryptionEnabled: true,
        userGroupIds: [users.userGroupId],
        subnetGroupName: subnets.name,
        securityGroupIds: [redisSg.id],
        port: 6379,
        snapshotRetentionLimit: 1,
      },
      parent,
    );

    const kafkaSg = new aws.ec2.SecurityGroup(
      `${name}-kafka`,
      {
        vpcId: args.vpcId,
        description: "MSK: Strata tasks only",
        ingress: [onlyFromTasks(9098, "Kafka TLS + IAM from Strata tasks")],
      },
      parent,
    );
    const kafkaConfig = new aws.msk.Configuration(
      `${name}-kafka`,
      {
        kafkaVersions: ["3.8.x"],
        serverProperties: [
          "auto.create.topics.enable=false",
          "default.replication.factor=3",
          `min.insync.replicas=${Math.min(2, args.kafka.brokers)}`,
          `num.partitions=${args.kafka.partitions}`,
        ].join("\n"),
      },
      parent,
    );
    const msk = new aws.msk.Cluster(
      `${name}-kafka`,
      {
        kafkaVersion: "3.8.x",
        numberOfBrokerNodes: args.kafka.brokers,
        brokerNodeGroupInfo: {
          instanceType: args.kafka.brokerSize,
          clientSubnets: args.subnetIds,
          securityGroups: [kafkaSg.id],
          storageInfo: { ebsStorageInfo: { volumeSize: 500 } },
        },
        configurationInfo: { arn: kafkaConfig.arn, revision: kafkaConfig.latestRevision },
        encryptionInfo: { encryptionInTransit: { clientBroker: "TLS", inCluster: true } },
        clientAuthentication: { sasl: { iam: true }, unauthenticated: false },
      },
      parent,
    );

    this.redisEndpoint = pulumi.interpolate`${redis.configurationEndpointAddress}:6379`;
    this.redisPasswordSecretArn = redisSecret.arn;
    this.redisPassword = pulumi.secret(password.apply((p) => p.randomPassword));
    this.kafkaBootstrap = msk.bootstrapBrokersSaslIam;
    this.kafkaClusterArn = msk.arn;
    this.registerOutputs({
      redisEndpoint: this.redisEndpoint,
      kafkaBootstrap: this.kafkaBootstrap,
    });
  }
}
