import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { asMap, type EnvVar } from "../workload-env.js";
import { assumeRolePolicy, type PolicyDocument } from "./policies.js";

export interface VpcLambdaArgs {
  config: StackConfig;
  /** The handler in the package (`dist/functions/<name>/lambda.handler`). */
  handler: string;
  timeoutSeconds: number;
  memoryMiB: number;
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  environment: EnvVar[];
  /** Lambda layers (ARNs of layer versions). */
  layers?: string[];
  /** The role's one inline policy, given the function's log group ARN. */
  policy: (logGroupArn: string) => pulumi.Input<PolicyDocument>;
}

/**
 * A Node.js 20 Lambda function from the stack's package (`strata:functions.lambdaPackage`, a
 * zip of `npm run build`'s dist/ with production node_modules), in the region's private
 * subnets and Strata's tasks' security group (what Redis and MSK admit), logging to its own
 * group, with a role holding one inline policy and no managed one.
 */
export class VpcLambda extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;

  constructor(name: string, args: VpcLambdaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:aws:VpcLambda", name, {}, opts);
    const parent = { parent: this };
    const { config } = args;
    const logs = new aws.cloudwatch.LogGroup(
      name,
      { retentionInDays: config.aws!.logRetentionDays },
      parent,
    );
    const role = new aws.iam.Role(
      name,
      { assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com") },
      parent,
    );
    const policy = new aws.iam.RolePolicy(
      name,
      {
        role: role.id,
        policy: logs.arn.apply((arn) => pulumi.output(args.policy(arn)).apply(JSON.stringify)),
      },
      parent,
    );
    const pkg = config.functions.lambdaPackage!;
    this.function = new aws.lambda.Function(
      name,
      {
        packageType: "Zip",
        s3Bucket: pkg.bucket,
        s3Key: pkg.key,
        runtime: "nodejs20.x",
        architectures: ["x86_64"],
        handler: args.handler,
        role: role.arn,
        timeout: args.timeoutSeconds,
        memorySize: args.memoryMiB,
        vpcConfig: { subnetIds: args.subnetIds, securityGroupIds: [args.securityGroupId] },
        environment: { variables: asMap(args.environment) },
        loggingConfig: { logFormat: "JSON", logGroup: logs.name },
        layers: args.layers ?? [],
      },
      { parent: this, dependsOn: [policy] },
    );
    this.registerOutputs({});
  }
}
