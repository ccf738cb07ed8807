import { consumerGroupId } from "../../shared/changelog/changelog-consumer.js";
import { changelogTopic } from "../../shared/changelog/topics.js";
import {
  backfillGroupPrefix,
  backfillTopic,
  offlineControlGroupPrefix,
  offlineControlTopic,
  offlineTopic,
  sinkConsumerGroup,
  WAREHOUSE_PREFIX,
} from "../offline/names.js";
import {
  kafkaResourceArn,
  kafkaTopicArn,
  registryReaderStatements,
  type PolicyDocument,
  type PolicyStatement,
} from "./policies.js";

/**
 * IAM policy documents of the offline sink, the backfill and drift functions and the metrics
 * collector: pure data like policies.ts, each resource named exactly (one bucket prefix, one
 * Glue database, one workspace, one secret).
 */

/** The Glue catalog, the database and its tables, from the database's ARN. */
export function glueArns(databaseArn: string) {
  const [prefix, name] = databaseArn.split(":database/");
  return {
    catalog: `${prefix}:catalog`,
    database: databaseArn,
    tables: `${prefix}:table/${name}/*`,
  };
}

/** Objects under the warehouse prefix, and listing that prefix only. */
function warehouseStatements(bucketArn: string, objectActions: string[]): PolicyStatement[] {
  return [
    { Effect: "Allow", Action: objectActions, Resource: [`${bucketArn}/${WAREHOUSE_PREFIX}/*`] },
    {
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [bucketArn],
      Condition: { StringLike: { "s3:prefix": [`${WAREHOUSE_PREFIX}/*`, WAREHOUSE_PREFIX] } },
    },
  ];
}

/** Reading the warehouse: its objects and the Glue database's tables (metadata). */
export function warehouseReadStatements(bucketArn: string, databaseArn: string): PolicyStatement[] {
  const glue = glueArns(databaseArn);
  return [
    ...warehouseStatements(bucketArn, ["s3:GetObject"]),
    {
      Effect: "Allow",
      Action: ["glue:GetDatabase", "glue:GetTable", "glue:GetTables"],
      Resource: [glue.catalog, glue.database, glue.tables],
    },
  ];
}

/**
 * MSK Connect's service execution role for the Iceberg sink: read the offline topic in the
 * connector's group, run Iceberg's control topic (transactional: its commit is exactly-once),
 * MSK Connect's own worker topics and groups; write data files and commit tables under the
 * warehouse prefix and the project's Glue database. Nothing else in S3, Glue or Kafka.
 */
export function sinkConnectorPolicy(
  clusterArn: string,
  project: string,
  bucketArn: string,
  databaseArn: string,
): PolicyDocument {
  const glue = glueArns(databaseArn);
  const internal = "__amazon_msk_connect_*";
  const group = (pattern: string) => kafkaResourceArn(clusterArn, "group", pattern);
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
        Resource: [clusterArn],
      },
      {
        Effect: "Allow",
        Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
        Resource: [kafkaTopicArn(clusterArn, offlineTopic(project))],
      },
      {
        Effect: "Allow",
        Action: [
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:CreateTopic",
          "kafka-cluster:ReadData",
          "kafka-cluster:WriteData",
        ],
        Resource: [
          kafkaTopicArn(clusterArn, offlineControlTopic(project)),
          kafkaResourceArn(clusterArn, "topic", internal),
        ],
      },
      {
        Effect: "Allow",
        Action: ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
        Resource: [
          group(sinkConsumerGroup(project)),
          group(`${offlineControlGroupPrefix(project)}*`),
          group(internal),
        ],
      },
      {
        Effect: "Allow",
        // Iceberg's coordinator and workers produce to the control topic in transactions whose
        // ids Iceberg derives itself (not configurable): any id of this cluster, these two
        // actions only. Transactions still reach no topic beyond the statements above.
        Action: ["kafka-cluster:DescribeTransactionalId", "kafka-cluster:AlterTransactionalId"],
        Resource: [kafkaResourceArn(clusterArn, "transactional-id", "*")],
      },
      ...warehouseStatements(bucketArn, [
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
      ]),
      {
        Effect: "Allow",
        Action: [
          "glue:GetDatabase",
          "glue:GetTable",
          "glue:GetTables",
          "glue:CreateTable",
          "glue:UpdateTable",
        ],
        Resource: [glue.catalog, glue.database, glue.tables],
      },
    ],
  };
}

/** A Lambda function's own log group, and the network interfaces Lambda creates in the VPC. */
export function lambdaBaseStatements(logGroupArn: string): PolicyStatement[] {
  return [
    {
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [`${logGroupArn}:*`],
    },
    {
      Effect: "Allow",
      // What AWSLambdaVPCAccessExecutionRole grants: EC2 accepts no narrower resource for these.
      Action: [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ],
      Resource: ["*"],
    },
  ];
}

/**
 * The backfill coordinator: produce a backfill's rows to the backfill topic (idempotent) and
 * read them back in its own groups, read the changelog (live records during a backfill) and
 * the published registry, read the warehouse (a backfill from the offline store).
 */
export function backfillPolicy(
  clusterArn: string,
  project: string,
  region: string,
  peers: readonly string[],
  bucketArn: string,
  databaseArn: string,
  logGroupArn: string,
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      ...lambdaBaseStatements(logGroupArn),
      {
        Effect: "Allow",
        Action: [
          "kafka-cluster:Connect",
          "kafka-cluster:DescribeCluster",
          "kafka-cluster:WriteDataIdempotently",
        ],
        Resource: [clusterArn],
      },
      {
        Effect: "Allow",
        Action: [
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:DescribeTopicDynamicConfiguration",
          "kafka-cluster:CreateTopic",
          "kafka-cluster:WriteData",
          "kafka-cluster:ReadData",
        ],
        Resource: [kafkaTopicArn(clusterArn, backfillTopic(project))],
      },
      {
        Effect: "Allow",
        Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
        Resource: [kafkaTopicArn(clusterArn, changelogTopic(project))],
      },
      {
        Effect: "Allow",
        Action: [
          "kafka-cluster:DescribeGroup",
          "kafka-cluster:AlterGroup",
          "kafka-cluster:DeleteGroup",
        ],
        Resource: [kafkaResourceArn(clusterArn, "group", `${backfillGroupPrefix(project)}*`)],
      },
      {
        Effect: "Allow",
        // The consumer group's committed offsets (a generation's cleanup waits for them).
        Action: ["kafka-cluster:DescribeGroup"],
        Resource: [kafkaResourceArn(clusterArn, "group", consumerGroupId(project, region))],
      },
      ...registryReaderStatements(clusterArn, project, peers),
      ...warehouseReadStatements(bucketArn, databaseArn),
    ],
  };
}

/**
 * The drift function: query the region's Amazon Managed Prometheus workspace and read the Argo
 * token secret; nothing else (its claim is in Redis, reached by network and password).
 */
export function driftPolicy(
  workspaceArn: string,
  argoTokenSecretArn: string,
  logGroupArn: string,
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      ...lambdaBaseStatements(logGroupArn),
      { Effect: "Allow", Action: ["aps:QueryMetrics"], Resource: [workspaceArn] },
      {
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [argoTokenSecretArn],
      },
    ],
  };
}

/**
 * The consumer's offline projection (STRATA_OFFLINE=on): produce to the offline topic with an
 * idempotent producer, and read the sink's committed offsets (the commit lag metric).
 */
export function offlineProjectionStatements(
  clusterArn: string,
  project: string,
): PolicyStatement[] {
  return [
    {
      Effect: "Allow",
      Action: ["kafka-cluster:WriteDataIdempotently"],
      Resource: [clusterArn],
    },
    {
      Effect: "Allow",
      Action: ["kafka-cluster:WriteData"],
      Resource: [kafkaTopicArn(clusterArn, offlineTopic(project))],
    },
    {
      Effect: "Allow",
      Action: ["kafka-cluster:DescribeGroup"],
      Resource: [kafkaResourceArn(clusterArn, "group", sinkConsumerGroup(project))],
    },
  ];
}

/** The metrics collector (an ADOT sidecar): remote-write into the region's workspace only. */
export function remoteWriteStatement(workspaceArn: string): PolicyStatement {
  return { Effect: "Allow", Action: ["aps:RemoteWrite"], Resource: [workspaceArn] };
}

/** EventBridge Scheduler may invoke one function. */
export function invokeFunctionPolicy(functionArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [functionArn] }],
  };
}
