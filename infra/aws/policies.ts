import { changelogTopic, deadLetterTopic } from "../../shared/changelog/topics.js";
import {
  registryReaderGroupPrefix,
  registryTopic,
  replicatedRegistryTopic,
} from "../../shared/registry-log/registry-topics.js";

/**
 * IAM policy documents of the region's task roles, as plain data: least privilege, scoped to
 * the region's own resources, never a `*` action. Pure, so tests read them without the engine.
 */
export interface PolicyStatement {
  Effect: "Allow";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** ARNs of the MSK cluster's topics and groups, from the cluster ARN (arn:...:cluster/name/uuid). */
export function kafkaArns(clusterArn: string, project: string) {
  const [prefix, rest] = clusterArn.split(":cluster/");
  const base = `${prefix}:`;
  return {
    cluster: clusterArn,
    topics: `${base}topic/${rest}/strata.${project}.*`,
    groups: `${base}group/${rest}/strata.${project}.*`,
  };
}

/** One topic of the MSK cluster, by its exact name. */
export function kafkaTopicArn(clusterArn: string, topic: string): string {
  const [prefix, rest] = clusterArn.split(":cluster/");
  return `${prefix}:topic/${rest}/${topic}`;
}

/**
 * The ECR repository of an image reference (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`
 * or `@sha256:...`), as an ARN; undefined for an image from any other registry.
 */
export function ecrRepositoryArn(image: string): string | undefined {
  const match =
    /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([a-z0-9._/-]+?)(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/.exec(
      image,
    );
  if (!match) return undefined;
  const [, account, region, china, repository] = match;
  return `arn:${china ? "aws-cn" : "aws"}:ecr:${region}:${account}:repository/${repository}`;
}

/**
 * ECS pulls the image (from its own ECR repository only; nothing for an image from another
 * registry), writes logs, and reads the secrets it injects.
 */
export function executionPolicy(
  image: string,
  logGroupArns: string[],
  secretArns: string[],
): PolicyDocument {
  const repository = ecrRepositoryArn(image);
  const pull: PolicyStatement[] = repository
    ? [
        // GetAuthorizationToken is account-wide by design: AWS accepts no narrower resource.
        { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
        {
          Effect: "Allow",
          Action: [
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchCheckLayerAvailability",
          ],
          Resource: [repository],
        },
      ]
    : [];
  return {
    Version: "2012-10-17",
    Statement: [
      ...pull,
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: logGroupArns.map((arn) => `${arn}:*`),
      },
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secretArns },
    ],
  };
}

/** Kafka access on the project's topics (and, when given, its consumer groups) only. */
function kafkaPolicy(
  clusterArn: string,
  project: string,
  topicActions: string[],
  groupActions: string[] = [],
): PolicyDocument {
  const arns = kafkaArns(clusterArn, project);
  const statements: PolicyStatement[] = [
    {
      Effect: "Allow",
      Action: ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
      Resource: [arns.cluster],
    },
    {
      Effect: "Allow",
      Action: [
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:DescribeTopicDynamicConfiguration",
        "kafka-cluster:CreateTopic",
        ...topicActions,
      ],
      Resource: [arns.topics],
    },
  ];
  if (groupActions.length > 0) {
    statements.push({ Effect: "Allow", Action: groupActions, Resource: [arns.groups] });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * Following the published registry (docs/registry.md): read the registry topic and each peer's
 * copy, the copies created when replication has not yet (the local topic's creation is in the
 * project-wide statement), in the readers' own groups, which each reader deletes when it stops.
 */
export function registryReaderStatements(
  clusterArn: string,
  project: string,
  peers: readonly string[],
): PolicyStatement[] {
  const copies = peers.map((peer) =>
    kafkaTopicArn(clusterArn, replicatedRegistryTopic(project, peer)),
  );
  return [
    {
      Effect: "Allow",
      Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
      Resource: [kafkaTopicArn(clusterArn, registryTopic(project))],
    },
    ...(copies.length > 0
      ? [
          {
            Effect: "Allow" as const,
            Action: [
              "kafka-cluster:DescribeTopic",
              "kafka-cluster:CreateTopic",
              "kafka-cluster:ReadData",
            ],
            Resource: copies,
          },
        ]
      : []),
    {
      Effect: "Allow",
      Action: [
        "kafka-cluster:DescribeGroup",
        "kafka-cluster:AlterGroup",
        "kafka-cluster:DeleteGroup",
      ],
      Resource: [registryReaderGroupsArn(clusterArn, project)],
    },
  ];
}

/** The registry readers' consumer groups (`strata.<project>.registry-reader.<uuid>`). */
export function registryReaderGroupsArn(clusterArn: string, project: string): string {
  return kafkaResourceArn(clusterArn, "group", `${registryReaderGroupPrefix(project)}*`);
}

/**
 * The serving tier writes the changelog (POST /push) with an idempotent producer and no other
 * topic (not the registry), creates its topics at start-up, and follows the published registry
 * of this region and of each peer (`peers`: their region names). It reads no changelog.
 */
export function servingTaskPolicy(
  clusterArn: string,
  project: string,
  peers: readonly string[] = [],
): PolicyDocument {
  const document = kafkaPolicy(clusterArn, project, []);
  document.Statement[0]!.Action.push("kafka-cluster:WriteDataIdempotently");
  document.Statement.push(
    {
      Effect: "Allow",
      Action: ["kafka-cluster:WriteData"],
      Resource: [kafkaTopicArn(clusterArn, changelogTopic(project))],
    },
    ...registryReaderStatements(clusterArn, project, peers),
  );
  return document;
}

/**
 * The consumer reads the project's topics (the registry among them) in its group, and writes
 * the dead-letter topic only. With peers it may also read their replicated changelogs and
 * registries (`<peer>.strata.<project>.*`), and create one that replication has not created
 * yet. Its registry reader deletes its own group when it stops.
 */
export function consumerTaskPolicy(
  clusterArn: string,
  project: string,
  withPeers = false,
): PolicyDocument {
  const document = kafkaPolicy(
    clusterArn,
    project,
    ["kafka-cluster:ReadData"],
    ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
  );
  document.Statement.push({
    Effect: "Allow",
    Action: ["kafka-cluster:WriteData"],
    Resource: [kafkaTopicArn(clusterArn, deadLetterTopic(project))],
  });
  document.Statement.push(deleteReaderGroups(clusterArn, project));
  if (withPeers) {
    document.Statement.push({
      Effect: "Allow",
      // Created by the consumer when it starts before replication first copied anything.
      Action: [
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:CreateTopic",
        "kafka-cluster:ReadData",
      ],
      Resource: [kafkaTopicArn(clusterArn, `*.strata.${project}.*`)],
    });
  }
  return document;
}

/** Actions that grant everything on a service (`*`, `s3:*`): what no Strata role may hold. */
export function wildcardActions(document: PolicyDocument | string): string[] {
  const parsed = (typeof document === "string" ? JSON.parse(document) : document) as {
    Statement: { Action: string | string[] }[];
  };
  return parsed.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).filter(
    (action) => action === "*" || action.endsWith(":*"),
  );
}

/** A topic or group ARN of the MSK cluster, by name pattern (IAM wildcards). */
export function kafkaResourceArn(
  clusterArn: string,
  kind: "topic" | "group" | "transactional-id",
  pattern: string,
): string {
  const [prefix, rest] = clusterArn.split(":cluster/");
  return `${prefix}:${kind}/${rest}/${pattern}`;
}

/**
 * MSK Replicator's service role: read the project's replicated topics on the peer, write their
 * prefixed copies (the alias is generated at creation, hence `*.`) and its own internal topics
 * and groups here. Nothing on the peer is written.
 */
export function replicatorPolicy(
  sourceArn: string,
  targetArn: string,
  topics: string[],
): PolicyDocument {
  const internal = "__amazon_msk_replicator*";
  const cluster = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"];
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: cluster, Resource: [sourceArn] },
      {
        Effect: "Allow",
        Action: [
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:DescribeTopicDynamicConfiguration",
          "kafka-cluster:ReadData",
        ],
        Resource: topics.map((t) => kafkaResourceArn(sourceArn, "topic", t)),
      },
      {
        Effect: "Allow",
        Action: ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
        Resource: [kafkaResourceArn(sourceArn, "group", internal)],
      },
      {
        Effect: "Allow",
        Action: [...cluster, "kafka-cluster:AlterCluster"],
        Resource: [targetArn],
      },
      {
        Effect: "Allow",
        Action: [
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:DescribeTopicDynamicConfiguration",
          "kafka-cluster:CreateTopic",
          "kafka-cluster:AlterTopic",
          "kafka-cluster:AlterTopicDynamicConfiguration",
          "kafka-cluster:WriteData",
          "kafka-cluster:ReadData",
        ],
        Resource: [
          ...topics.map((t) => kafkaResourceArn(targetArn, "topic", `*.${t}`)),
          kafkaResourceArn(targetArn, "topic", internal),
        ],
      },
      {
        Effect: "Allow",
        Action: ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
        Resource: [kafkaResourceArn(targetArn, "group", internal)],
      },
    ],
  };
}

/**
 * MirrorMaker 2 in this region (a non-MSK peer): on this region's MSK, create and write the
 * peer's prefixed topics and MM2's own `mm2-*` topics and groups; nothing else.
 */
export function mirrorMakerTaskPolicy(
  clusterArn: string,
  peer: string,
  project: string,
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
        Resource: [clusterArn],
      },
      {
        Effect: "Allow",
        Action: [
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:DescribeTopicDynamicConfiguration",
          "kafka-cluster:CreateTopic",
          "kafka-cluster:AlterTopicDynamicConfiguration",
          "kafka-cluster:WriteData",
          "kafka-cluster:ReadData",
        ],
        Resource: [
          kafkaResourceArn(clusterArn, "topic", `${peer}.strata.${project}.*`),
          kafkaResourceArn(clusterArn, "topic", "mm2-*"),
        ],
      },
      {
        Effect: "Allow",
        Action: ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
        Resource: [kafkaResourceArn(clusterArn, "group", "*mm2*")],
      },
    ],
  };
}

/**
 * DeleteGroup on the registry readers' groups only: a principal whose project-wide group rights
 * already let it join them (consumer, reconcile job) needs just this to remove its reader's.
 */
function deleteReaderGroups(clusterArn: string, project: string): PolicyStatement {
  return {
    Effect: "Allow",
    Action: ["kafka-cluster:DeleteGroup"],
    Resource: [registryReaderGroupsArn(clusterArn, project)],
  };
}

/**
 * The reconcile job reads the project's topics (its own and the replicated ones; the registry
 * once, in a reader group it deletes) and repairs by re-publishing a stored winner into its own
 * changelog, with an idempotent producer.
 */
export function reconcileTaskPolicy(clusterArn: string, project: string): PolicyDocument {
  const document = kafkaPolicy(
    clusterArn,
    project,
    ["kafka-cluster:ReadData", "kafka-cluster:WriteData"],
    ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
  );
  document.Statement[0]!.Action.push("kafka-cluster:WriteDataIdempotently");
  document.Statement.push({
    Effect: "Allow",
    Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
    Resource: [kafkaResourceArn(clusterArn, "topic", `*.strata.${project}.*`)],
  });
  document.Statement.push(deleteReaderGroups(clusterArn, project));
  return document;
}
