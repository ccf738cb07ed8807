import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
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
