import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { eventBridgeSchedule } from "../peers.js";
import { DRIFT_LAMBDA_HANDLER, driftEnvironment, type EnvVar } from "../workload-env.js";
import { VpcLambda } from "./lambda-function.js";
import { assumeRolePolicy } from "./policies.js";
import { driftPolicy, invokeFunctionPolicy } from "./workload-policies.js";

export interface AwsDriftArgs {
  config: StackConfig;
  subnetIds: pulumi.Input<string>[];
  tasksSecurityGroupId: pulumi.Input<string>;
  workspaceArn: pulumi.Input<string>;
  /** The workspace's Prometheus-compatible endpoint (…/workspaces/<id>/). */
  prometheusEndpoint: pulumi.Input<string>;
  argoToken: pulumi.Input<string>;
  /** The consumer's job environment (Redis nodes, username) and the Redis password's value. */
  environment: EnvVar[];
  redisPassword: pulumi.Input<string>;
}

/**
 * The drift evaluation (functions/drift/lambda.ts) on an EventBridge Scheduler schedule
 * (`strata:drift.schedule`, UTC). The function's role may query this region's Managed
 * Prometheus workspace and read the Argo token's secret, nothing more; the scheduler's role
 * may invoke this function only.
 */
export class AwsDrift extends pulumi.ComponentResource {
  constructor(name: string, args: AwsDriftArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:aws:Drift", name, {}, opts);
    const parent = { parent: this };
    const { config } = args;
    const token = new aws.secretsmanager.Secret(
      `${name}-argo-token`,
      { description: "Bearer token of Argo Workflows for retraining submissions" },
      parent,
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-argo-token`,
      { secretId: token.id, secretString: pulumi.secret(args.argoToken) },
      parent,
    );
    const redisLogin = args.environment.filter((v) =>
      ["REDIS_USERNAME", "AWS_REGION"].includes(v.name),
    );
    const lambda = new VpcLambda(
      name,
      {
        config,
        handler: DRIFT_LAMBDA_HANDLER,
        // functions/drift reads STRATA_ARGO_TOKEN_SECRET through this extension's local endpoint.
        layers: [config.functions.secretsExtensionLayer!],
        timeoutSeconds: 300,
        memoryMiB: 1024,
        subnetIds: args.subnetIds,
        securityGroupId: args.tasksSecurityGroupId,
        environment: [
          ...driftEnvironment(config, {
            prometheusUrl: args.prometheusEndpoint,
            env: args.environment,
            token: { name: "STRATA_ARGO_TOKEN_SECRET", value: token.arn },
          }),
          // Amazon Managed Prometheus answers only SigV4-signed queries (the role's aps:QueryMetrics).
          { name: "STRATA_PROMETHEUS_SIGV4_REGION", value: config.region },
          ...redisLogin,
          { name: "REDIS_PASSWORD", value: pulumi.secret(args.redisPassword) },
        ],
        policy: (logGroupArn) =>
          pulumi
            .all([args.workspaceArn, token.arn])
            .apply(([workspace, secret]) => driftPolicy(workspace, secret, logGroupArn)),
      },
      parent,
    );
    const scheduler = new aws.iam.Role(
      `${name}-scheduler`,
      { assumeRolePolicy: assumeRolePolicy("scheduler.amazonaws.com") },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-scheduler`,
      {
        role: scheduler.id,
        policy: lambda.function.arn.apply((arn) => JSON.stringify(invokeFunctionPolicy(arn))),
      },
      parent,
    );
    new aws.scheduler.Schedule(
      name,
      {
        description: `Strata drift evaluation of ${config.project} in ${config.region}`,
        scheduleExpression: eventBridgeSchedule(config.drift.schedule),
        scheduleExpressionTimezone: "UTC",
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: lambda.function.arn,
          roleArn: scheduler.arn,
          // The shape of an EventBridge "Scheduled Event", which the Lambda adapters expect
          // (functions/reconcile/lambda.ts), with the schedule's own time.
          input: JSON.stringify({
            "detail-type": "Scheduled Event",
            source: "aws.scheduler",
            time: "<aws.scheduler.scheduled-time>",
            detail: {},
          }),
          // A missed evaluation is not retried: the next window comes on schedule.
          retryPolicy: { maximumRetryAttempts: 0 },
        },
      },
      parent,
    );
    this.registerOutputs({});
  }
}
