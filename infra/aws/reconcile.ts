import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { eventBridgeSchedule } from "../peers.js";
import { RECONCILE_COMMAND, reconcileEnvironment } from "../region-stack.js";
import {
  assumeRolePolicy,
  executionPolicy,
  reconcileTaskPolicy,
  type PolicyDocument,
} from "./policies.js";
import { fargateTaskDefinition, fargateTaskRoles } from "./fargate-task.js";

export interface AwsReconcileArgs {
  config: StackConfig;
  ecsClusterArn: pulumi.Input<string>;
  subnetIds: pulumi.Input<string>[];
  tasksSecurityGroupId: pulumi.Input<string>;
  kafkaClusterArn: pulumi.Input<string>;
  /** The consumer's variables and secrets without its ports (AwsServingTier.job*). */
  environment: { name: string; value: pulumi.Input<string> }[];
  secrets: { name: string; valueFrom: pulumi.Input<string> }[];
  secretArns: pulumi.Input<string>[];
}

/**
 * The anti-entropy job on a schedule: an EventBridge Scheduler schedule (UTC cron) that runs
 * one Fargate task of the image with `node dist/functions/reconcile/main.js`. The scheduler's
 * role may run that task definition and pass its two roles, nothing else.
 */
export class AwsReconcile extends pulumi.ComponentResource {
  constructor(name: string, args: AwsReconcileArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:aws:Reconcile", name, {}, opts);
    const parent = { parent: this };
    const { config } = args;
    const logs = new aws.cloudwatch.LogGroup(
      name,
      { retentionInDays: config.aws!.logRetentionDays },
      parent,
    );
    const { execution, task } = fargateTaskRoles(
      name,
      {
        execution: pulumi
          .all([logs.arn, ...args.secretArns])
          .apply(([log, ...secrets]) =>
            JSON.stringify(executionPolicy(config.serving.image, [log!], secrets)),
          ),
        task: pulumi
          .output(args.kafkaClusterArn)
          .apply((arn) => JSON.stringify(reconcileTaskPolicy(arn, config.project))),
      },
      parent,
    );
    const definition = fargateTaskDefinition(
      name,
      { execution, task },
      {
        name: "reconcile",
        image: config.serving.image,
        command: RECONCILE_COMMAND,
        essential: true,
        user: "1000",
        readonlyRootFilesystem: true,
        environment: [...args.environment, ...reconcileEnvironment(config, args.environment)],
        secrets: args.secrets,
      },
      { group: logs.name, region: config.region, streamPrefix: "reconcile" },
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
        policy: pulumi
          .all([definition.arnWithoutRevision, execution.arn, task.arn])
          .apply(([family, executionArn, taskArn]) =>
            JSON.stringify(schedulerPolicy(family, [executionArn, taskArn])),
          ),
      },
      parent,
    );
    new aws.scheduler.Schedule(
      name,
      {
        description: `Strata reconcile of ${config.region} against its peers`,
        scheduleExpression: eventBridgeSchedule(config.reconcileSchedule),
        scheduleExpressionTimezone: "UTC",
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: args.ecsClusterArn,
          roleArn: scheduler.arn,
          ecsParameters: {
            taskDefinitionArn: definition.arn,
            launchType: "FARGATE",
            taskCount: 1,
            networkConfiguration: {
              subnets: args.subnetIds,
              securityGroups: [args.tasksSecurityGroupId],
              assignPublicIp: false,
            },
          },
          // A run that cannot start is not retried: the next one comes on schedule.
          retryPolicy: { maximumRetryAttempts: 0 },
        },
      },
      parent,
    );
    this.registerOutputs({});
  }
}

/** EventBridge Scheduler may start the reconcile task definition (any revision) and pass its roles. */
export function schedulerPolicy(taskFamilyArn: string, roleArns: string[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["ecs:RunTask"], Resource: [`${taskFamilyArn}:*`] },
      { Effect: "Allow", Action: ["iam:PassRole"], Resource: roleArns },
    ],
  };
}
