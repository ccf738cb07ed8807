import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import {
  INGEST_COMMAND,
  INGEST_METRICS_PORT,
  jobEnvironment,
  peerEnvironment,
  regionEnvironment,
  SERVE_ADMIN_PORT,
  SERVE_COMMAND,
  SERVE_PORT,
} from "../region-stack.js";
import {
  assumeRolePolicy,
  consumerTaskPolicy,
  executionPolicy,
  servingTaskPolicy,
  type PolicyDocument,
  type PolicyStatement,
} from "./policies.js";
import { collectorContainer, remoteWriteUrl } from "./collector.js";
import { cdcIngestEnvironment, offlineProjectionEnvironment } from "../workload-env.js";
import { offlineProjectionStatements, remoteWriteStatement } from "./workload-policies.js";

export interface AwsServingTierArgs {
  config: StackConfig;
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string>[];
  tasksSecurityGroupId: pulumi.Input<string>;
  /** The load balancer's own group: the tasks admit the feature and admin ports from it only. */
  loadBalancerSecurityGroupId: pulumi.Input<string>;
  redisEndpoint: pulumi.Input<string>;
  redisPasswordSecretArn: pulumi.Input<string>;
  kafkaBootstrap: pulumi.Input<string>;
  kafkaClusterArn: pulumi.Input<string>;
  /** JSON list of API key records (hashes only): docs/serving.md. */
  apiKeys: pulumi.Input<string>;
  /** The region's Managed Prometheus workspace: each task's collector writes into it. */
  metricsWorkspaceArn: pulumi.Input<string>;
  metricsEndpoint: pulumi.Input<string>;
}

/**
 * The serving tier and the regional consumer as ECS Fargate services (provisioned: at least
 * one task each, always), the serving tier behind an internal network load balancer with a
 * TLS listener and CPU autoscaling; task roles with only the actions each needs; API key
 * hashes in Secrets Manager; logs in CloudWatch with retention.
 */
export class AwsServingTier extends pulumi.ComponentResource {
  readonly servingUrl: pulumi.Output<string>;
  /** The ECS cluster, where the replication and reconcile tasks run too. */
  readonly clusterArn: pulumi.Output<string>;
  /** What a one-shot job of the image gets: the consumer's variables and secrets, no ports. */
  readonly jobEnvironment: { name: string; value: pulumi.Input<string> }[];
  readonly jobSecrets: { name: string; valueFrom: pulumi.Input<string> }[];

  constructor(name: string, args: AwsServingTierArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:aws:ServingTier", name, {}, opts);
    const parent = { parent: this };
    const { config } = args;
    const retentionInDays = config.aws!.logRetentionDays;
    const serveLogs = new aws.cloudwatch.LogGroup(`${name}-serve`, { retentionInDays }, parent);
    const ingestLogs = new aws.cloudwatch.LogGroup(`${name}-ingest`, { retentionInDays }, parent);
    const apiKeys = new aws.secretsmanager.Secret(
      `${name}-api-keys`,
      { description: "Strata API key hashes (SHA-256 only)" },
      parent,
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-api-keys`,
      { secretId: apiKeys.id, secretString: pulumi.secret(args.apiKeys) },
      parent,
    );

    const executionRole = new aws.iam.Role(
      `${name}-execution`,
      { assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com") },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-execution`,
      {
        role: executionRole.id,
        policy: pulumi
          .all([serveLogs.arn, ingestLogs.arn, apiKeys.arn, args.redisPasswordSecretArn])
          .apply(([serve, ingest, keys, redis]) =>
            JSON.stringify(executionPolicy(config.serving.image, [serve, ingest], [keys, redis])),
          ),
      },
      parent,
    );
    const serveRole = new aws.iam.Role(
      `${name}-serve-task`,
      { assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com") },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-serve-task`,
      {
        role: serveRole.id,
        policy: pulumi
          .all([args.kafkaClusterArn, args.metricsWorkspaceArn])
          .apply(([arn, workspace]) =>
            JSON.stringify(
              withRemoteWrite(
                servingTaskPolicy(
                  arn,
                  config.project,
                  config.peers.map((p) => p.region),
                ),
                workspace,
              ),
            ),
          ),
      },
      parent,
    );
    const ingestRole = new aws.iam.Role(
      `${name}-ingest-task`,
      { assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com") },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-ingest-task`,
      {
        role: ingestRole.id,
        policy: pulumi
          .all([args.kafkaClusterArn, args.metricsWorkspaceArn])
          .apply(([arn, workspace]) =>
            JSON.stringify(
              withRemoteWrite(
                withStatements(
                  consumerTaskPolicy(arn, config.project, config.peers.length > 0),
                  offlineProjectionStatements(arn, config.project),
                ),
                workspace,
              ),
            ),
          ),
      },
      parent,
    );

    const cluster = new aws.ecs.Cluster(
      name,
      { settings: [{ name: "containerInsights", value: "enabled" }] },
      parent,
    );
    const environment = [
      ...regionEnvironment(config, args.redisEndpoint, args.kafkaBootstrap),
      { name: "REDIS_USERNAME", value: "strata" },
      // OAUTHBEARER tokens signed with the task role's credentials for this region's MSK.
      { name: "KAFKA_SASL_MECHANISM", value: "aws-msk-iam" },
      { name: "AWS_REGION", value: config.region },
    ];
    const secrets = [
      { name: "STRATA_API_KEYS", valueFrom: apiKeys.arn },
      { name: "REDIS_PASSWORD", valueFrom: args.redisPasswordSecretArn },
    ];
    const writeUrl = remoteWriteUrl(args.metricsEndpoint);
    const container = (role: "serve" | "ingest", logGroup: aws.cloudwatch.LogGroup) =>
      pulumi.jsonStringify([
        {
          name: role,
          image: config.serving.image,
          command: role === "serve" ? SERVE_COMMAND : INGEST_COMMAND,
          essential: true,
          // The image's own non-root user (node, uid 1000), and nothing written to the image.
          user: "1000",
          readonlyRootFilesystem: true,
          portMappings: (role === "serve"
            ? [SERVE_PORT, SERVE_ADMIN_PORT]
            : [INGEST_METRICS_PORT]
          ).map((containerPort) => ({ containerPort, protocol: "tcp" })),
          environment: [
            ...environment,
            ...peerEnvironment(config, role),
            ...(role === "ingest"
              ? [...offlineProjectionEnvironment(config), ...cdcIngestEnvironment(config)]
              : []),
          ],
          secrets,
          logConfiguration: {
            logDriver: "awslogs",
            options: {
              "awslogs-group": logGroup.name,
              "awslogs-region": config.region,
              "awslogs-stream-prefix": role,
            },
          },
        },
        collectorContainer(
          config,
          role,
          role === "serve" ? SERVE_ADMIN_PORT : INGEST_METRICS_PORT,
          writeUrl,
          logGroup.name,
        ),
      ]);
    const cpu = String(Math.round(config.serving.cpu * 1024));
    const memory = String(config.serving.memoryMiB);
    const taskDefinition = (
      role: "serve" | "ingest",
      taskRole: aws.iam.Role,
      logGroup: aws.cloudwatch.LogGroup,
    ) =>
      new aws.ecs.TaskDefinition(
        `${name}-${role}`,
        {
          family: `${name}-${role}`,
          requiresCompatibilities: ["FARGATE"],
          networkMode: "awsvpc",
          cpu,
          memory,
          executionRoleArn: executionRole.arn,
          taskRoleArn: taskRole.arn,
          runtimePlatform: { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" },
          containerDefinitions: container(role, logGroup),
        },
        parent,
      );
    const serveTask = taskDefinition("serve", serveRole, serveLogs);
    const ingestTask = taskDefinition("ingest", ingestRole, ingestLogs);

    const nlb = new aws.lb.LoadBalancer(
      `${name}-serve`,
      {
        loadBalancerType: "network",
        internal: true,
        subnets: args.subnetIds,
        securityGroups: [args.loadBalancerSecurityGroupId],
      },
      parent,
    );
    // Traffic goes to the feature port only; health checks ask /ready on the admin port.
    const targets = new aws.lb.TargetGroup(
      `${name}-serve`,
      {
        port: SERVE_PORT,
        protocol: "TCP",
        targetType: "ip",
        vpcId: args.vpcId,
        healthCheck: { protocol: "HTTP", path: "/ready", port: String(SERVE_ADMIN_PORT) },
        deregistrationDelay: 15,
      },
      parent,
    );
    new aws.lb.Listener(
      `${name}-serve-tls`,
      {
        loadBalancerArn: nlb.arn,
        port: 443,
        protocol: "TLS",
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        certificateArn: config.aws!.certificateArn,
        defaultActions: [{ type: "forward", targetGroupArn: targets.arn }],
      },
      parent,
    );

    const networkConfiguration = {
      subnets: args.subnetIds,
      securityGroups: [args.tasksSecurityGroupId],
      assignPublicIp: false,
    };
    const serveService = new aws.ecs.Service(
      `${name}-serve`,
      {
        cluster: cluster.arn,
        taskDefinition: serveTask.arn,
        launchType: "FARGATE",
        desiredCount: config.serving.minReplicas,
        networkConfiguration,
        loadBalancers: [
          { targetGroupArn: targets.arn, containerName: "serve", containerPort: SERVE_PORT },
        ],
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
      },
      parent,
    );
    new aws.ecs.Service(
      `${name}-ingest`,
      {
        cluster: cluster.arn,
        taskDefinition: ingestTask.arn,
        launchType: "FARGATE",
        desiredCount: config.serving.consumerReplicas,
        networkConfiguration,
      },
      parent,
    );

    const scaling = new aws.appautoscaling.Target(
      `${name}-serve`,
      {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: pulumi.interpolate`service/${cluster.name}/${serveService.name}`,
        minCapacity: config.serving.minReplicas,
        maxCapacity: config.serving.maxReplicas,
      },
      parent,
    );
    new aws.appautoscaling.Policy(
      `${name}-serve-cpu`,
      {
        policyType: "TargetTrackingScaling",
        serviceNamespace: scaling.serviceNamespace,
        scalableDimension: scaling.scalableDimension,
        resourceId: scaling.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: 60,
          predefinedMetricSpecification: {
            predefinedMetricType: "ECSServiceAverageCPUUtilization",
          },
          scaleInCooldown: 120,
          scaleOutCooldown: 30,
        },
      },
      parent,
    );
    this.servingUrl = pulumi.interpolate`https://${nlb.dnsName}`;
    this.clusterArn = cluster.arn;
    this.jobEnvironment = jobEnvironment(environment);
    this.jobSecrets = secrets.filter((s) => s.name !== "STRATA_API_KEYS");
    this.registerOutputs({ servingUrl: this.servingUrl, clusterArn: this.clusterArn });
  }
}

/** A task role's policy plus the collector sidecar's one right: remote-write to the workspace. */
function withRemoteWrite(document: PolicyDocument, workspaceArn: string): PolicyDocument {
  return withStatements(document, [remoteWriteStatement(workspaceArn)]);
}

function withStatements(document: PolicyDocument, added: PolicyStatement[]): PolicyDocument {
  return { ...document, Statement: [...document.Statement, ...added] };
}
