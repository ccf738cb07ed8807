import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { BACKFILL_LAMBDA_HANDLER, backfillEnvironment, type EnvVar } from "../workload-env.js";
import { VpcLambda } from "./lambda-function.js";
import { backfillPolicy } from "./workload-policies.js";

export interface AwsBackfillArgs {
  config: StackConfig;
  subnetIds: pulumi.Input<string>[];
  tasksSecurityGroupId: pulumi.Input<string>;
  kafkaClusterArn: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  databaseArn: pulumi.Input<string>;
  warehouse: pulumi.Input<string>;
  /** The consumer's job environment (Redis, MSK IAM, TLS) and the Redis password's value. */
  environment: EnvVar[];
  redisPassword: pulumi.Input<string>;
}

/**
 * The backfill coordinator (functions/backfill/lambda.ts) as a Lambda function, invoked by API
 * through its function URL with IAM auth: a caller needs `lambda:InvokeFunctionUrl` on it
 * (signed SigV4 requests), nobody else reaches it. A call runs one coordinator step; state
 * lives in Redis, so the function is stateless between calls.
 */
export class AwsBackfill extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: AwsBackfillArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:aws:Backfill", name, {}, opts);
    const parent = { parent: this };
    const { config } = args;
    const lambda = new VpcLambda(
      name,
      {
        config,
        handler: BACKFILL_LAMBDA_HANDLER,
        // Lambda's maximum: a step that outlives it is resumed by the next call (lease in Redis).
        timeoutSeconds: 900,
        memoryMiB: 2048,
        subnetIds: args.subnetIds,
        securityGroupId: args.tasksSecurityGroupId,
        environment: [
          ...args.environment,
          { name: "REDIS_PASSWORD", value: pulumi.secret(args.redisPassword) },
          ...backfillEnvironment(config, args.environment, args.warehouse),
        ],
        policy: (logGroupArn) =>
          pulumi
            .all([args.kafkaClusterArn, args.bucketArn, args.databaseArn])
            .apply(([cluster, bucket, database]) =>
              backfillPolicy(
                cluster,
                config.project,
                config.region,
                config.peers.map((p) => p.region),
                bucket,
                database,
                logGroupArn,
              ),
            ),
      },
      parent,
    );
    const url = new aws.lambda.FunctionUrl(
      name,
      { functionName: lambda.function.name, authorizationType: "AWS_IAM" },
      parent,
    );
    this.url = url.functionUrl;
    this.registerOutputs({ url: this.url });
  }
}
