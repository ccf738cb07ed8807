import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { INGEST_METRICS_PORT, SERVE_ADMIN_PORT } from "../../infra/region-stack.js";
import { ofType, one, runStack, stackFileConfig, type StackRun } from "./pulumi-mocks.js";
import { grants, lambdaBase } from "./policy-grants.js";

const PREFIX = "strata-demo-us-east-1";
const ACCOUNT = "arn:aws:mock:us-east-1:111122223333";
const MSK = "arn:aws:kafka:us-east-1:111122223333";
const CLUSTER = `${PREFIX}-kafka/0000`;
const BUCKET = `arn:aws:s3:::${PREFIX}-offline-warehouse`;
const GLUE = "arn:aws:glue:us-east-1:111122223333";
const WORKSPACE = `${ACCOUNT}:${PREFIX}-metrics`;

/** The inline policy of the role named `<prefix>-<suffix>`. */
const policyOf = (run: StackRun, suffix: string) => {
  const found = ofType(run, "aws:iam/rolePolicy:RolePolicy").filter(
    (p) => p.name === `${PREFIX}-${suffix}`,
  );
  assert.equal(found.length, 1, suffix);
  return found[0]!.inputs.policy as string;
};

describe("the aws-us-east-1 stack's offline store, sink, backfill, drift and collectors", () => {
  let run: StackRun;
  const config = stackFileConfig("aws-us-east-1");

  before(async () => {
    run = await runStack("aws-us-east-1", config);
  });

  it("exports the warehouse, the connector, the backfill URL and the drift schedule", () => {
    assert.equal(run.exports.offlineWarehouse, `s3://${PREFIX}-offline-warehouse/warehouse`);
    assert.equal(run.exports.offlineConnector, "strata-demo-offline");
    assert.match(String(run.exports.backfillEndpoint), /^https:\/\/.*\.lambda-url\./);
    assert.equal(run.exports.driftSchedule, "*/15 * * * *");
  });

  it("encrypts the warehouse bucket, blocks all public access, versions it and expires old versions", () => {
    const sse = one(
      run,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    );
    assert.equal(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
    const block = one(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
    assert.deepEqual(
      [
        block.blockPublicAcls,
        block.blockPublicPolicy,
        block.ignorePublicAcls,
        block.restrictPublicBuckets,
      ],
      [true, true, true, true],
    );
    assert.equal(
      one(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule
        .objectOwnership,
      "BucketOwnerEnforced",
      "no ACLs at all",
    );
    assert.equal(
      one(run, "aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration.status,
      "Enabled",
    );
    const rule = one(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs
      .rules[0];
    assert.equal(rule.noncurrentVersionExpiration.noncurrentDays, 7);
    assert.equal(rule.abortIncompleteMultipartUpload.daysAfterInitiation, 1);
    const deny = JSON.parse(one(run, "aws:s3/bucketPolicy:BucketPolicy").inputs.policy)
      .Statement[0];
    assert.deepEqual(
      [deny.Effect, deny.Condition],
      ["Deny", { Bool: { "aws:SecureTransport": "false" } }],
      "TLS only",
    );
    const database = one(run, "aws:glue/catalogDatabase:CatalogDatabase").inputs;
    assert.equal(database.name, "strata_demo", "the Iceberg namespace strata_<project>");
    assert.equal(database.locationUri, `s3://${PREFIX}-offline-warehouse/warehouse`);
  });

  it("runs the Iceberg sink on MSK Connect with IAM and TLS, from the configured plugin", () => {
    const plugin = one(run, "aws:mskconnect/customPlugin:CustomPlugin").inputs;
    assert.deepEqual(plugin.location.s3, {
      bucketArn: "arn:aws:s3:::strata-artifacts-111122223333",
      fileKey: "connect/iceberg-kafka-connect-runtime-1.10.1.zip",
    });
    const connector = one(run, "aws:mskconnect/connector:Connector").inputs;
    assert.equal(connector.name, "strata-demo-offline");
    assert.equal(connector.kafkaClusterClientAuthentication.authenticationType, "IAM");
    assert.equal(connector.kafkaClusterEncryptionInTransit.encryptionType, "TLS");
    assert.match(connector.kafkaCluster.apacheKafkaCluster.bootstrapServers, /:9098/);
    const c = connector.connectorConfiguration as Record<string, string>;
    assert.equal(c["connector.class"], "org.apache.iceberg.connect.IcebergSinkConnector");
    assert.equal(c.topics, "strata.demo.offline");
    assert.equal(c["iceberg.catalog.catalog-impl"], "org.apache.iceberg.aws.glue.GlueCatalog");
    assert.equal(c["iceberg.catalog.warehouse"], `s3://${PREFIX}-offline-warehouse/warehouse`);
    assert.equal(c["iceberg.control.commit.interval-ms"], "60000");
    assert.equal(c["iceberg.control.topic"], "strata.demo.offline.control");
    assert.equal(
      connector.serviceExecutionRoleArn,
      `${ACCOUNT}:${PREFIX}-offline-connect`,
      "its own role",
    );
  });

  it("lets the sink write only the warehouse prefix and the project's Glue database", () => {
    const topic = (t: string) => `${MSK}:topic/${CLUSTER}/${t}`;
    const group = (g: string) => `${MSK}:group/${CLUSTER}/${g}`;
    const glue = [`${GLUE}:catalog`, `${GLUE}:database/strata_demo`, `${GLUE}:table/strata_demo/*`];
    const cluster = `${MSK}:cluster/${CLUSTER}`;
    const control = [topic("strata.demo.offline.control"), topic("__amazon_msk_connect_*")];
    assert.deepEqual(
      grants(policyOf(run, "offline-connect")),
      [
        ...["Connect", "DescribeCluster", "WriteDataIdempotently"].map(
          (a) => `kafka-cluster:${a} ${cluster}`,
        ),
        `kafka-cluster:DescribeTopic ${topic("strata.demo.offline")}`,
        `kafka-cluster:ReadData ${topic("strata.demo.offline")}`,
        ...["DescribeTopic", "CreateTopic", "ReadData", "WriteData"].flatMap((a) =>
          control.map((t) => `kafka-cluster:${a} ${t}`),
        ),
        ...["DescribeGroup", "AlterGroup"].flatMap((a) =>
          [
            group("connect-strata-demo-offline"),
            group("strata.demo.offline.control*"),
            group("__amazon_msk_connect_*"),
          ].map((g) => `kafka-cluster:${a} ${g}`),
        ),
        ...["DescribeTransactionalId", "AlterTransactionalId"].map(
          (a) => `kafka-cluster:${a} ${MSK}:transactional-id/${CLUSTER}/*`,
        ),
        ...["GetObject", "PutObject", "DeleteObject", "AbortMultipartUpload"].map(
          (a) => `s3:${a} ${BUCKET}/warehouse/*`,
        ),
        `s3:ListBucket ${BUCKET} if {"StringLike":{"s3:prefix":["warehouse/*","warehouse"]}}`,
        ...["GetDatabase", "GetTable", "GetTables", "CreateTable", "UpdateTable"].flatMap((a) =>
          glue.map((r) => `glue:${a} ${r}`),
        ),
      ].sort(),
    );
  });

  it("deploys the backfill coordinator as a VPC Lambda behind an IAM-authenticated function URL", () => {
    const url = one(run, "aws:lambda/functionUrl:FunctionUrl").inputs;
    assert.equal(url.authorizationType, "AWS_IAM");
    assert.equal(url.functionName, `${PREFIX}-backfill`);
    const fn = one(run, "aws:lambda/function:Function", "backfill").inputs;
    assert.equal(fn.handler, "dist/functions/backfill/lambda.handler");
    assert.equal(fn.runtime, "nodejs20.x");
    assert.deepEqual(
      [fn.s3Bucket, fn.s3Key],
      ["strata-artifacts-111122223333", "functions/strata-0.1.0.zip"],
    );
    assert.equal(fn.vpcConfig.subnetIds.length, 3);
    assert.deepEqual(fn.vpcConfig.securityGroupIds, [`${PREFIX}-tasks-id`]);
    const env = fn.environment.variables as Record<string, string>;
    assert.equal(env.STRATA_PROJECT, "demo");
    assert.equal(env.STRATA_REGION, "us-east-1");
    assert.equal(env.STRATA_OFFLINE_WAREHOUSE, `s3://${PREFIX}-offline-warehouse/warehouse`);
    assert.equal(env.STRATA_REDIS_CLUSTER, env.REDIS_CLUSTER_NODES);
    assert.match(env.STRATA_REDIS_CLUSTER!, /:6379$/);
    assert.equal(env.STRATA_KAFKA_BROKERS, env.KAFKA_BROKERS);
    assert.match(env.STRATA_KAFKA_BROKERS!, /:9098/);
    assert.equal(env.KAFKA_SASL_MECHANISM, "aws-msk-iam");
    assert.deepEqual([env.REDIS_TLS, env.KAFKA_TLS, env.REDIS_USERNAME], ["on", "on", "strata"]);
    assert.equal(env.REDIS_PASSWORD, "mock-password");
    assert.equal(env.STRATA_API_KEYS, undefined, "no API keys");
    assert.equal(env.STRATA_PORT, undefined, "no listening ports");
  });

  it("lets the backfill coordinator use its topic, read the changelog, registry and warehouse, nothing more", () => {
    const topic = (t: string) => `${MSK}:topic/${CLUSTER}/${t}`;
    const logs = `${ACCOUNT}:${PREFIX}-backfill`;
    const glue = [`${GLUE}:catalog`, `${GLUE}:database/strata_demo`, `${GLUE}:table/strata_demo/*`];
    assert.deepEqual(
      grants(policyOf(run, "backfill")),
      [
        ...lambdaBase(logs),
        ...["Connect", "DescribeCluster", "WriteDataIdempotently"].map(
          (a) => `kafka-cluster:${a} ${MSK}:cluster/${CLUSTER}`,
        ),
        ...[
          "DescribeTopic",
          "DescribeTopicDynamicConfiguration",
          "CreateTopic",
          "WriteData",
          "ReadData",
        ].map((a) => `kafka-cluster:${a} ${topic("strata.demo.backfill")}`),
        `kafka-cluster:DescribeTopic ${topic("strata.demo.changelog")}`,
        `kafka-cluster:ReadData ${topic("strata.demo.changelog")}`,
        ...["DescribeGroup", "AlterGroup", "DeleteGroup"].map(
          (a) => `kafka-cluster:${a} ${MSK}:group/${CLUSTER}/strata.demo.backfill*`,
        ),
        `kafka-cluster:DescribeTopic ${topic("strata.demo.registry")}`,
        `kafka-cluster:ReadData ${topic("strata.demo.registry")}`,
        ...["DescribeGroup", "AlterGroup", "DeleteGroup"].map(
          (a) => `kafka-cluster:${a} ${MSK}:group/${CLUSTER}/strata.demo.registry-reader.*`,
        ),
        `kafka-cluster:DescribeGroup ${MSK}:group/${CLUSTER}/strata.demo.us-east-1.apply`,
        `s3:GetObject ${BUCKET}/warehouse/*`,
        `s3:ListBucket ${BUCKET} if {"StringLike":{"s3:prefix":["warehouse/*","warehouse"]}}`,
        ...["GetDatabase", "GetTable", "GetTables"].flatMap((a) =>
          glue.map((r) => `glue:${a} ${r}`),
        ),
      ].sort(),
    );
  });

  it("schedules the drift Lambda with EventBridge Scheduler, whose role may invoke it only", () => {
    const schedule = one(run, "aws:scheduler/schedule:Schedule", "drift").inputs;
    assert.equal(schedule.scheduleExpression, "cron(0/15 * * * ? *)");
    assert.equal(schedule.scheduleExpressionTimezone, "UTC");
    const fnArn = `${ACCOUNT}:${PREFIX}-drift`;
    assert.equal(schedule.target.arn, fnArn);
    assert.equal(JSON.parse(schedule.target.input)["detail-type"], "Scheduled Event");
    assert.deepEqual(grants(policyOf(run, "drift-scheduler")), [`lambda:InvokeFunction ${fnArn}`]);
    const fn = one(run, "aws:lambda/function:Function", "drift").inputs;
    assert.equal(fn.handler, "dist/functions/drift/lambda.handler");
    assert.deepEqual(fn.layers, [
      "arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension:12",
    ]);
    const env = fn.environment.variables as Record<string, string>;
    assert.equal(env.STRATA_PROMETHEUS_URL, `https://aps.example/workspaces/${PREFIX}-metrics/`);
    assert.equal(env.STRATA_PROMETHEUS_SIGV4_REGION, "us-east-1");
    assert.equal(env.STRATA_ARGO_URL, "https://argo.ml.example.com");
    assert.equal(env.STRATA_ARGO_NAMESPACE, "ml");
    assert.equal(env.STRATA_ARGO_TEMPLATE, "retrain-model");
    assert.equal(env.STRATA_ARGO_TOKEN_SECRET, `${ACCOUNT}:${PREFIX}-drift-argo-token`);
    assert.equal(env.STRATA_ARGO_TOKEN, undefined, "the token itself stays in Secrets Manager");
    assert.match(env.STRATA_DRIFT_CLAIM_REDIS_URL!, /^rediss:\/\/[^,]*:6379$/);
    assert.equal(env.REDIS_USERNAME, "strata");
    const version = ofType(run, "aws:secretsmanager/secretVersion:SecretVersion").find((v) =>
      v.name.endsWith("argo-token"),
    )!;
    assert.equal(version.inputs.secretString, "mock-argo-token");
  });

  it("lets the drift Lambda query its region's workspace and read the Argo token, nothing more", () => {
    assert.deepEqual(
      grants(policyOf(run, "drift")),
      [
        ...lambdaBase(`${ACCOUNT}:${PREFIX}-drift`),
        `aps:QueryMetrics ${WORKSPACE}`,
        `secretsmanager:GetSecretValue ${ACCOUNT}:${PREFIX}-drift-argo-token`,
      ].sort(),
    );
  });

  it("has the consumer project to the offline topic, with only the rights that takes", () => {
    const ingest = (
      JSON.parse(
        one(run, "aws:ecs/taskDefinition:TaskDefinition", "-ingest").inputs
          .containerDefinitions as string,
      ) as { name: string; environment: { name: string; value: string }[] }[]
    )[0]!;
    const env = Object.fromEntries(ingest.environment.map((v) => [v.name, v.value]));
    assert.deepEqual(
      [env.STRATA_OFFLINE, env.STRATA_OFFLINE_COMMIT_INTERVAL_MS, env.STRATA_CONNECT_URL],
      ["on", "60000", undefined],
    );
    const serve = (
      JSON.parse(
        one(run, "aws:ecs/taskDefinition:TaskDefinition", "-serve").inputs
          .containerDefinitions as string,
      ) as { environment: { name: string }[] }[]
    )[0]!;
    assert.ok(
      !serve.environment.some((v) => v.name === "STRATA_OFFLINE"),
      "serving projects nothing",
    );
    const writes = grants(policyOf(run, "ingest-task")).filter((g) =>
      /WriteData|DescribeGroup .*connect-/.test(g),
    );
    assert.deepEqual(writes, [
      `kafka-cluster:DescribeGroup ${MSK}:group/${CLUSTER}/connect-strata-demo-offline`,
      `kafka-cluster:WriteData ${MSK}:topic/${CLUSTER}/strata.demo.dlq`,
      `kafka-cluster:WriteData ${MSK}:topic/${CLUSTER}/strata.demo.offline`,
      `kafka-cluster:WriteDataIdempotently ${MSK}:cluster/${CLUSTER}`,
    ]);
  });

  it("scrapes each task's admin port with an ADOT sidecar that remote-writes to the workspace", () => {
    for (const [role, port] of [
      ["serve", SERVE_ADMIN_PORT],
      ["ingest", INGEST_METRICS_PORT],
    ] as const) {
      const containers = JSON.parse(
        one(run, "aws:ecs/taskDefinition:TaskDefinition", `-${role}`).inputs
          .containerDefinitions as string,
      ) as { name: string; essential: boolean; environment: { name: string; value: string }[] }[];
      const sidecar = containers.find((c) => c.name === "metrics-collector")!;
      assert.equal(sidecar.essential, false, "a collector failure does not stop serving");
      const adot = parse(
        sidecar.environment.find((v) => v.name === "AOT_CONFIG_CONTENT")!.value,
      ) as Record<string, any>;
      assert.deepEqual(
        adot.receivers.prometheus.config.scrape_configs[0].static_configs[0].targets,
        [`127.0.0.1:${port}`],
      );
      assert.equal(
        adot.exporters.prometheusremotewrite.endpoint,
        `https://aps.example/workspaces/${PREFIX}-metrics/api/v1/remote_write`,
      );
      assert.deepEqual(adot.extensions.sigv4auth, { region: "us-east-1", service: "aps" });
      const aps = grants(policyOf(run, `${role}-task`)).filter((g) => g.startsWith("aps:"));
      assert.deepEqual(aps, [`aps:RemoteWrite ${WORKSPACE}`], `${role}: remote-write only`);
    }
  });
});
