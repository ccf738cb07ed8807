import { cdcTopicPrefix } from "../../shared/sources/debezium-config.js";
import type { S3Location } from "../workloads-config.js";
import { kafkaResourceArn, type PolicyDocument } from "./policies.js";

/**
 * What the Debezium connectors' service role may do (pure data, like policies.ts): write the
 * project's CDC table topics (creating them), MSK Connect's own topics and groups (a source
 * connector's offsets live there), read exactly the databases' password secrets, and read
 * exactly the root certificates' objects (S3 import config provider).
 */
export function cdcConnectorPolicy(args: {
  clusterArn: string;
  project: string;
  /** ARNs of the Secrets Manager secrets (`...:secret:<name>-??????`). */
  secretArns: string[];
  rootCerts: S3Location[];
}): PolicyDocument {
  const internal = "__amazon_msk_connect_*";
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "kafka-cluster:Connect",
          "kafka-cluster:DescribeCluster",
          "kafka-cluster:WriteDataIdempotently",
        ],
        Resource: [args.clusterArn],
      },
      {
        Effect: "Allow",
        Action: [
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:CreateTopic",
          "kafka-cluster:WriteData",
        ],
        Resource: [kafkaResourceArn(args.clusterArn, "topic", `${cdcTopicPrefix(args.project)}.*`)],
      },
      {
        Effect: "Allow",
        Action: [
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:CreateTopic",
          "kafka-cluster:ReadData",
          "kafka-cluster:WriteData",
        ],
        Resource: [kafkaResourceArn(args.clusterArn, "topic", internal)],
      },
      {
        Effect: "Allow",
        Action: ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
        Resource: [kafkaResourceArn(args.clusterArn, "group", internal)],
      },
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: args.secretArns },
      {
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: args.rootCerts.map((c) => `arn:aws:s3:::${c.bucket}/${c.key}`),
      },
    ],
  };
}

/** A secret's ARN pattern from its name: Secrets Manager appends `-` and six random characters. */
export function secretArnPattern(region: string, account: string, name: string): string {
  return `arn:aws:secretsmanager:${region}:${account}:secret:${name}-??????`;
}
