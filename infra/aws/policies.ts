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

/** ECS pulls the image and writes logs; reads the secrets it injects. */
export function executionPolicy(logGroupArns: string[], secretArns: string[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      // GetAuthorizationToken is account-wide by design: AWS accepts no narrower resource.
      { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
      {
        Effect: "Allow",
        Action: [
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchCheckLayerAvailability",
        ],
        Resource: ["arn:aws:ecr:*:*:repository/*"],
      },
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

/** The serving tier writes the changelog (POST /push) and creates its topics at start-up. */
export function servingTaskPolicy(clusterArn: string, project: string): PolicyDocument {
  return kafkaPolicy(clusterArn, project, ["kafka-cluster:WriteData"]);
}

/** The consumer reads the changelog in its group, and writes the dead-letter topic. */
export function consumerTaskPolicy(clusterArn: string, project: string): PolicyDocument {
  return kafkaPolicy(
    clusterArn,
    project,
    ["kafka-cluster:ReadData", "kafka-cluster:WriteData"],
    ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
  );
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
