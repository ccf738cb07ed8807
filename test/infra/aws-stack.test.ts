import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ecrRepositoryArn, wildcardActions } from "../../infra/aws/policies.js";
import { REGION_OUTPUT_NAMES, SERVE_ADMIN_PORT, SERVE_PORT } from "../../infra/region-stack.js";
import {
  countByType,
  ofType,
  one,
  runStack,
  stackFileConfig,
  type StackRun,
} from "./pulumi-mocks.js";

describe("the aws-us-east-1 example stack under Pulumi mocks", () => {
  let run: StackRun;
  const config = stackFileConfig("aws-us-east-1");
  const sizes = config as {
    "strata:redis": { shards: number; replicasPerShard: number };
    "strata:kafka": { brokers: number };
    "strata:serving": { minReplicas: number; maxReplicas: number; consumerReplicas: number };
    "strata:aws": { zones: number };
  };

  before(async () => {
    const started = performance.now();
    run = await runStack("aws-us-east-1", config);
    console.log(
      `aws-us-east-1: ${run.resources.length} resources in ${Math.round(performance.now() - started)} ms`,
      countByType(run),
    );
  });

  it("exports exactly the region outputs", () => {
    assert.deepEqual(Object.keys(run.exports).sort(), [...REGION_OUTPUT_NAMES].sort());
    assert.equal(run.exports.cloud, "aws");
    assert.equal(run.exports.region, "us-east-1");
    assert.match(String(run.exports.servingUrl), /^https:\/\//);
    assert.match(String(run.exports.redisEndpoint), /:6379$/);
    assert.match(String(run.exports.kafkaBootstrap), /:9098/);
  });

  it("declares the configured sizes", () => {
    const redis = one(run, "aws:elasticache/replicationGroup:ReplicationGroup");
    assert.equal(redis.inputs.numNodeGroups, sizes["strata:redis"].shards);
    assert.equal(redis.inputs.replicasPerNodeGroup, sizes["strata:redis"].replicasPerShard);
    assert.equal(redis.inputs.clusterMode, "enabled");
    assert.equal(
      one(run, "aws:msk/cluster:Cluster").inputs.numberOfBrokerNodes,
      sizes["strata:kafka"].brokers,
    );
    const zones = sizes["strata:aws"].zones;
    assert.equal(
      ofType(run, "aws:ec2/subnet:Subnet").length,
      2 * zones,
      "a private and a public subnet per zone",
    );
    const services = ofType(run, "aws:ecs/service:Service");
    assert.equal(services.length, 2);
    assert.equal(
      one(run, "aws:ecs/service:Service", "serve").inputs.desiredCount,
      sizes["strata:serving"].minReplicas,
    );
    assert.equal(
      one(run, "aws:ecs/service:Service", "ingest").inputs.desiredCount,
      sizes["strata:serving"].consumerReplicas,
    );
    for (const s of services) assert.equal(s.inputs.launchType, "FARGATE");
    const scaling = one(run, "aws:appautoscaling/target:Target");
    assert.deepEqual(
      [scaling.inputs.minCapacity, scaling.inputs.maxCapacity],
      [sizes["strata:serving"].minReplicas, sizes["strata:serving"].maxReplicas],
    );
    assert.equal(
      one(run, "aws:appautoscaling/policy:Policy").inputs.targetTrackingScalingPolicyConfiguration
        .predefinedMetricSpecification.predefinedMetricType,
      "ECSServiceAverageCPUUtilization",
    );
    assert.deepEqual(
      ofType(run, "aws:cloudwatch/logGroup:LogGroup")
        .map((g) => g.name.replace(/^strata-demo-us-east-1-/, ""))
        .sort(),
      ["backfill", "drift", "ingest", "offline-connect", "serve"],
    );
    for (const g of ofType(run, "aws:cloudwatch/logGroup:LogGroup"))
      assert.equal(g.inputs.retentionInDays, 30);
    assert.equal(ofType(run, "aws:amp/workspace:Workspace").length, 1);
    assert.equal(
      ofType(run, "aws:secretsmanager/secret:Secret").length,
      3,
      "API key hashes, the Redis password and the Argo token",
    );
  });

  it("encrypts Redis and Kafka in transit and at rest, with authentication and failover", () => {
    const redis = one(run, "aws:elasticache/replicationGroup:ReplicationGroup");
    assert.equal(redis.inputs.transitEncryptionEnabled, true);
    assert.equal(redis.inputs.transitEncryptionMode, "required");
    assert.equal(redis.inputs.atRestEncryptionEnabled, true);
    assert.equal(redis.inputs.automaticFailoverEnabled, true);
    assert.equal(redis.inputs.userGroupIds.length, 1, "RBAC user group");
    const defaultUser = ofType(run, "aws:elasticache/user:User").find(
      (u) => u.inputs.userName === "default",
    )!;
    assert.match(defaultUser.inputs.accessString, /^off /, "the default user is disabled");
    const msk = one(run, "aws:msk/cluster:Cluster");
    assert.deepEqual(msk.inputs.encryptionInfo.encryptionInTransit, {
      clientBroker: "TLS",
      inCluster: true,
    });
    assert.equal(msk.inputs.clientAuthentication.sasl.iam, true);
    assert.equal(msk.inputs.clientAuthentication.unauthenticated, false);
    const listener = one(run, "aws:lb/listener:Listener");
    assert.deepEqual([listener.inputs.protocol, listener.inputs.port], ["TLS", 443]);
    assert.match(listener.inputs.certificateArn, /^arn:aws:acm:/);
  });

  it("lets only Strata's tasks reach Redis and Kafka, and exposes nothing publicly", () => {
    const tasks = one(run, "aws:ec2/securityGroup:SecurityGroup", "tasks");
    for (const suffix of ["redis", "kafka"]) {
      const group = ofType(run, "aws:ec2/securityGroup:SecurityGroup").find((g) =>
        g.name.endsWith(`-${suffix}`),
      )!;
      assert.ok(group.inputs.ingress.length > 0);
      for (const rule of group.inputs.ingress) {
        assert.equal(rule.cidrBlocks, undefined, `${suffix} admits no address range`);
        assert.deepEqual(
          rule.securityGroups,
          [`${tasks.name}-id`],
          `${suffix} admits only the tasks' group`,
        );
      }
    }
    assert.equal(one(run, "aws:lb/loadBalancer:LoadBalancer").inputs.internal, true);
    for (const s of ofType(run, "aws:ecs/service:Service"))
      assert.equal(s.inputs.networkConfiguration.assignPublicIp, false);
  });

  it("grants no IAM '*' action, and runs containers as non-root on a read-only filesystem", () => {
    const policies = ofType(run, "aws:iam/rolePolicy:RolePolicy");
    assert.deepEqual(
      policies.map((p) => p.name.replace(/^strata-demo-us-east-1-/, "")).sort(),
      [
        "backfill",
        "drift",
        "drift-scheduler",
        "execution",
        "ingest-task",
        "offline-connect",
        "serve-task",
      ],
      "the tiers' execution and task roles, the sink's, the functions' and the drift scheduler's",
    );
    for (const p of policies) assert.deepEqual(wildcardActions(p.inputs.policy), [], p.name);
    assert.equal(
      ofType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").length,
      0,
      "no managed policies",
    );
    for (const task of ofType(run, "aws:ecs/taskDefinition:TaskDefinition")) {
      for (const container of JSON.parse(task.inputs.containerDefinitions) as {
        user: string;
        readonlyRootFilesystem: boolean;
      }[]) {
        assert.notEqual(container.user, "0");
        assert.equal(container.user, "1000");
        assert.equal(container.readonlyRootFilesystem, true);
      }
    }
  });

  it("lets the execution role pull from the project's ECR repository only", () => {
    const policy = JSON.parse(
      one(run, "aws:iam/rolePolicy:RolePolicy", "execution").inputs.policy as string,
    ) as { Statement: { Action: string[]; Resource: string[] }[] };
    const ecr = policy.Statement.filter((s) => s.Action.some((a) => a.startsWith("ecr:")));
    assert.deepEqual(
      ecr.map((s) => [s.Action.sort(), s.Resource]),
      [
        [["ecr:GetAuthorizationToken"], ["*"]],
        [
          ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
          ["arn:aws:ecr:us-east-1:111122223333:repository/strata-serve"],
        ],
      ],
    );
  });

  it("lets the consumer write the dead-letter topic and serving the changelog, no other", () => {
    const cluster = "arn:aws:kafka:us-east-1:111122223333";
    const statements = (name: string) =>
      (
        JSON.parse(one(run, "aws:iam/rolePolicy:RolePolicy", name).inputs.policy as string) as {
          Statement: { Action: string[]; Resource: string[] }[];
        }
      ).Statement;
    const writes = (name: string) =>
      statements(name)
        .filter((s) => s.Action.includes("kafka-cluster:WriteData"))
        .flatMap((s) => s.Resource);
    const msk = "strata-demo-us-east-1-kafka/0000";
    assert.deepEqual(writes("ingest-task"), [
      `${cluster}:topic/${msk}/strata.demo.dlq`,
      `${cluster}:topic/${msk}/strata.demo.offline`,
    ]);
    assert.deepEqual(writes("serve-task"), [`${cluster}:topic/${msk}/strata.demo.changelog`]);
    assert.ok(
      statements("serve-task").some((s) =>
        s.Action.includes("kafka-cluster:WriteDataIdempotently"),
      ),
      "the changelog writer's producer is idempotent",
    );
    const reads = statements("ingest-task").filter((s) =>
      s.Action.includes("kafka-cluster:ReadData"),
    );
    assert.deepEqual(
      reads.flatMap((s) => s.Resource),
      [`${cluster}:topic/${msk}/strata.demo.*`],
    );
  });

  it("derives ECR repository ARNs from image references, and none for other registries", () => {
    assert.equal(
      ecrRepositoryArn("111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/strata:1.2"),
      "arn:aws:ecr:eu-west-1:111122223333:repository/team/strata",
    );
    assert.equal(
      ecrRepositoryArn(
        `111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/strata@sha256:${"a".repeat(64)}`,
      ),
      "arn:aws-cn:ecr:cn-north-1:111122223333:repository/strata",
    );
    assert.equal(ecrRepositoryArn("ghcr.io/acme/strata:1"), undefined);
    assert.equal(ecrRepositoryArn("strata-serve:0.1.0"), undefined);
  });

  it("forwards only the feature port, and health-checks the admin port", () => {
    const listener = one(run, "aws:lb/listener:Listener");
    const targets = one(run, "aws:lb/targetGroup:TargetGroup");
    assert.deepEqual(listener.inputs.defaultActions, [
      { type: "forward", targetGroupArn: `arn:aws:mock:us-east-1:111122223333:${targets.name}` },
    ]);
    assert.equal(targets.inputs.port, SERVE_PORT);
    assert.deepEqual(
      [targets.inputs.healthCheck.port, targets.inputs.healthCheck.path],
      [String(SERVE_ADMIN_PORT), "/ready"],
    );
    assert.deepEqual(
      (
        one(run, "aws:ecs/service:Service", "serve").inputs.loadBalancers as {
          containerPort: number;
        }[]
      ).map((l) => l.containerPort),
      [SERVE_PORT],
    );
    // The tasks admit the feature and admin ports from the load balancer's group, nothing else.
    const lb = one(run, "aws:ec2/securityGroup:SecurityGroup", "-lb");
    assert.deepEqual(one(run, "aws:lb/loadBalancer:LoadBalancer").inputs.securityGroups, [
      `${lb.name}-id`,
    ]);
    assert.deepEqual(
      (lb.inputs.ingress as { fromPort: number; toPort: number }[]).map((r) => [
        r.fromPort,
        r.toPort,
      ]),
      [[443, 443]],
    );
    const tasks = one(run, "aws:ec2/securityGroup:SecurityGroup", "tasks");
    for (const rule of tasks.inputs.ingress) {
      assert.deepEqual(rule.securityGroups, [`${lb.name}-id`]);
      assert.equal(rule.cidrBlocks, undefined);
    }
    assert.deepEqual(
      (tasks.inputs.ingress as { fromPort: number }[]).map((r) => r.fromPort).sort(),
      [SERVE_PORT, SERVE_ADMIN_PORT].sort(),
    );
    const serve = (
      JSON.parse(
        one(run, "aws:ecs/taskDefinition:TaskDefinition", "serve").inputs
          .containerDefinitions as string,
      ) as { environment: { name: string; value: string }[] }[]
    )[0]!;
    assert.equal(
      serve.environment.find((v) => v.name === "STRATA_ADMIN_PORT")?.value,
      String(SERVE_ADMIN_PORT),
    );
  });
});
