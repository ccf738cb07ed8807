import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy } from "./policies.js";

/** The two roles of a Fargate task: what ECS needs to start it, and what its code may do. */
export interface FargateTaskRoles {
  execution: aws.iam.Role;
  task: aws.iam.Role;
}

/**
 * An execution role and a task role for a Fargate task named `name`, each with one inline
 * policy (JSON documents), as children of `parent`: `<name>-execution` and `<name>-task`.
 */
export function fargateTaskRoles(
  name: string,
  policies: { execution: pulumi.Input<string>; task: pulumi.Input<string> },
  parent: pulumi.CustomResourceOptions,
): FargateTaskRoles {
  const role = (suffix: string, policy: pulumi.Input<string>): aws.iam.Role => {
    const created = new aws.iam.Role(
      `${name}-${suffix}`,
      { assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com") },
      parent,
    );
    new aws.iam.RolePolicy(`${name}-${suffix}`, { role: created.id, policy }, parent);
    return created;
  };
  return { execution: role("execution", policies.execution), task: role("task", policies.task) };
}

/**
 * A one-container Fargate task definition (x86-64 Linux, 1 vCPU, 2 GiB) named `name`, run with
 * `roles`, its container logging to `logGroup` under `streamPrefix`.
 */
export function fargateTaskDefinition(
  name: string,
  roles: FargateTaskRoles,
  container: Record<string, unknown>,
  logs: { group: pulumi.Input<string>; region: string; streamPrefix: string },
  parent: pulumi.CustomResourceOptions,
): aws.ecs.TaskDefinition {
  return new aws.ecs.TaskDefinition(
    name,
    {
      family: name,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: "1024",
      memory: "2048",
      executionRoleArn: roles.execution.arn,
      taskRoleArn: roles.task.arn,
      runtimePlatform: { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" },
      containerDefinitions: pulumi.jsonStringify([
        {
          ...container,
          logConfiguration: {
            logDriver: "awslogs",
            options: {
              "awslogs-group": logs.group,
              "awslogs-region": logs.region,
              "awslogs-stream-prefix": logs.streamPrefix,
            },
          },
        },
      ]),
    },
    parent,
  );
}
