import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { wildcardActions } from "../../infra/aws/policies.js";
import { parseStackConfig, StackConfigError } from "../../infra/config.js";
import { eventBridgeSchedule, parseReconcileSchedule } from "../../infra/peers.js";
import { RECONCILE_COMMAND, REGION_OUTPUT_NAMES } from "../../infra/region-stack.js";
import { mirrorMakerProperties } from "../../infra/replication.js";
import { loadIngestConfig } from "../../functions/ingest/config.js";
import { changelogSources } from "../../shared/changelog/changelog-consumer.js";
import { changelogTopic } from "../../shared/changelog/topics.js";
import { registryTopic, registryTopics } from "../../shared/registry-log/registry-topics.js";
import { EnvReader } from "../../shared/config/env.js";
import { stackContainers } from "./container-env.js";
import {
  MOCK_PEM,
  ofType,
  one,
  runStack,
  stackFileConfig,
  withPeerCredentials,
  type StackRun,
} from "./pulumi-mocks.js";

const stripped = (config: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^strata:/, ""), v]));

const CA = MOCK_PEM("CERTIFICATE");
const PEERS = {
  dc1: {
    region: "dc1",
    cloud: "kubernetes",
    bootstrap: "kafka-dc1.corp.example:9094",
    redis: "cluster://redis-dc1.corp.example:6379",
    caCertificate: CA,
  },
  westeurope: {
    region: "westeurope",
    cloud: "azure",
    bootstrap: "ns-weu.servicebus.windows.net:9093",
    redis: "rediss://strata-demo-weu.westeurope.redis.azure.net:10000",
  },
  usEast: {
    region: "us-east-1",
    cloud: "aws",
    bootstrap: "b-1.use1.kafka.us-east-1.amazonaws.com:9096",
    redis: "cluster://clustercfg.strata-demo-use1.cache.amazonaws.com:6379",
    auth: "scram-sha-512",
    username: "strata-peer",
  },
  euWestMsk: {
    region: "eu-west-1",
    cloud: "aws",
    bootstrap: "b-1.euw1.kafka.eu-west-1.amazonaws.com:9098",
    redis: "cluster://clustercfg.strata-demo-euw1.cache.amazonaws.com:6379,10.41.1.5:6379",
    clusterArn: "arn:aws:kafka:eu-west-1:111122223333:cluster/strata-demo-eu-west-1-kafka/abcd-1",
    subnetIds: ["subnet-0a", "subnet-0b"],
  },
};

/** STRATA_RECONCILE_REGIONS expected from a job's env: here at the consumer's Redis, then the peers. */
function expectedRegions(env: { name: string; value?: string }[], here: string, peers: object[]) {
  const nodes = env.find((v) => v.name === "REDIS_CLUSTER_NODES")!.value!;
  return [
    `${here}=cluster://${nodes}`,
    ...(peers as { region: string; redis: string }[]).map((p) => `${p.region}=${p.redis}`),
  ].join(";");
}

function envValue(env: { name: string; value?: string }[], name: string): string | undefined {
  return env.find((v) => v.name === name)?.value;
}

const FLOW_KEYS = ["from", "sourceTopic", "targetTopic", "via"];

describe("strata:peers validation", () => {
  const base = stackFileConfig("aws-eu-west-1");
  const invalid: [string, unknown, RegExp][] = [
    [
      "a duplicate peer",
      [PEERS.dc1, PEERS.dc1],
      /strata:peers\[1\]\.region is "dc1" again; each peer once/,
    ],
    [
      "the region itself",
      [{ ...PEERS.dc1, region: "eu-west-1" }],
      /strata:peers\[0\]\.region is "eu-west-1", this stack's own region/,
    ],
    [
      "a peer without its Kafka address",
      [{ ...PEERS.dc1, bootstrap: undefined }],
      /strata:peers\[0\]\.bootstrap is missing; it must be the peer's Kafka address/,
    ],
    [
      "a peer without its Redis address",
      [{ ...PEERS.dc1, redis: undefined }],
      /strata:peers\[0\]\.redis is missing; it must be the peer's Redis as this region's reconcile job reaches it: redis:\/\/host:port, rediss:\/\/host:port or cluster:\/\/host:port\[,host:port\]/,
    ],
    [
      "a peer Redis that is no Redis target",
      [{ ...PEERS.dc1, redis: "redis-dc1.corp.example:6379" }],
      /strata:peers\[0\]\.redis is "redis-dc1\.corp\.example:6379"; it must be the peer's Redis/,
    ],
    [
      "a peer Redis cluster with a bad node",
      [{ ...PEERS.dc1, redis: "cluster://redis-dc1.corp.example" }],
      /strata:peers\[0\]\.redis is "cluster:\/\/redis-dc1\.corp\.example"; it must be the peer's Redis/,
    ],
    [
      "a peer Redis with a space (it would split STRATA_RECONCILE_REGIONS)",
      [{ ...PEERS.dc1, redis: "cluster://a:6379, b:6379" }],
      /strata:peers\[0\]\.redis is "cluster:\/\/a:6379, b:6379"; it must be the peer's Redis/,
    ],
    [
      "a peer Redis password in plain config",
      [{ ...PEERS.dc1, redis: "rediss://:hunter2@redis-dc1.corp.example:6380" }],
      /strata:peers\[0\]\.redis holds credentials; the reconcile job logs in to every region with this region's REDIS_USERNAME \/ REDIS_PASSWORD/,
    ],
    [
      "a password in plain config",
      [{ ...PEERS.usEast, password: "hunter2" }],
      /strata:peers\[0\]\.password is not a peer setting; credentials never go in plain config: set the secret strata:peerCredentials-us-east-1/,
    ],
    [
      "an unknown cloud",
      [{ ...PEERS.dc1, cloud: "gcp" }],
      /strata:peers\[0\]\.cloud is "gcp"; it must be one of: aws, azure, kubernetes/,
    ],
    [
      "an MSK peer without its cluster ARN",
      [{ ...PEERS.euWestMsk, region: "us-west-2", clusterArn: undefined }],
      /strata:peers\[0\]\.clusterArn is missing; an MSK peer needs its cluster ARN/,
    ],
    [
      "a Strimzi peer without its cluster CA",
      [{ ...PEERS.dc1, caCertificate: undefined }],
      /strata:peers\[0\]\.caCertificate is missing/,
    ],
    ["not a list", "dc1", /strata:peers is "dc1"; it must be a list of peer regions/],
  ];
  for (const [what, peers, message] of invalid) {
    it(`refuses ${what}, naming the key, before declaring any resource`, async () => {
      const config = { ...base, "strata:peers": peers };
      assert.throws(
        () => parseStackConfig(stripped(config)),
        (e: unknown) => e instanceof StackConfigError && message.test(e.message),
      );
      await assert.rejects(
        runStack("invalid", withPeerCredentials(config)),
        (e: unknown) => e instanceof Error && message.test(e.message),
      );
    });
  }

  it("refuses MSK IAM from a region outside AWS", () => {
    const onprem = stackFileConfig("onprem-dc1");
    assert.throws(
      () => parseStackConfig(stripped({ ...onprem, "strata:peers": [PEERS.euWestMsk] })),
      /strata:peers\[0\]\.auth is "msk-iam"; IAM reaches an MSK peer from an AWS region only/,
    );
  });

  it("refuses a peer whose credential secret is not set", async () => {
    await assert.rejects(
      runStack("no-secret", stackFileConfig("aws-eu-west-1")),
      /strata:peerCredentials-dc1 is missing; it must be a secret holding the mtls credential of peer dc1/,
    );
  });

  it("takes a portable cron for the reconcile schedule, every 15 minutes by default", () => {
    assert.equal(parseReconcileSchedule(undefined), "*/15 * * * *");
    assert.equal(eventBridgeSchedule("*/15 * * * *"), "cron(0/15 * * * ? *)");
    assert.equal(eventBridgeSchedule("5 3 * * *"), "cron(5 3 * * ? *)");
    assert.equal(eventBridgeSchedule("0,30 */2 * * *"), "cron(0,30 0/2 * * ? *)");
    for (const bad of ["*/15 * * *", "*/0 * * * *", "0 0 * * 1", "61 * * * *", "@hourly"]) {
      assert.throws(() => parseReconcileSchedule(bad), /strata:reconcileSchedule is/, bad);
    }
  });
});

describe("MirrorMaker 2 properties", () => {
  it("copies the changelog one way, TLS on both links, credentials from the environment", () => {
    const text = mirrorMakerProperties(
      "demo",
      {
        alias: "dc1",
        bootstrap: "kafka-dc1:9094",
        auth: "mtls",
        secretEnv: "PEER_CREDENTIAL",
        caEnv: "PEER_CA",
      },
      { alias: "eu-west-1", bootstrap: "b-1:9098", auth: "msk-iam" },
    );
    const props = Object.fromEntries(
      text
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    assert.equal(props["dc1->eu-west-1.enabled"], "true");
    assert.equal(props["eu-west-1->dc1.enabled"], "false", "each stack owns its inbound flows");
    assert.equal(
      props["eu-west-1.scheduled.rebalance.max.delay.ms"],
      "0",
      "a rejoining worker takes the flow back at once (a worker setting: target-prefixed)",
    );
    assert.equal(
      props["dc1->eu-west-1.topics"],
      "strata\\\\.demo\\\\.changelog|strata\\\\.demo\\\\.registry",
      "the changelog and the registry, not the dead-letter topic",
    );
    // As MM2 reads it: java.util.Properties drops one level of backslashes, then a full match.
    const pattern = new RegExp(`^(?:${props["dc1->eu-west-1.topics"].replace(/\\(.)/g, "$1")})$`);
    assert.ok(pattern.test("strata.demo.changelog"));
    assert.ok(pattern.test("strata.demo.registry"));
    for (const other of [
      "strata.demo.dlq",
      "strataXdemoXchangelog",
      "x.strata.demo.changelog",
      "x.strata.demo.registry",
    ]) {
      assert.ok(!pattern.test(other), other);
    }
    assert.equal(
      props["replication.policy.class"],
      "org.apache.kafka.connect.mirror.DefaultReplicationPolicy",
    );
    assert.equal(props["dc1.security.protocol"], "SSL");
    assert.equal(props["dc1.ssl.keystore.key"], "${env:PEER_CREDENTIAL_KEY}");
    assert.equal(props["dc1.ssl.truststore.certificates"], "${env:PEER_CA}");
    assert.equal(props["eu-west-1.security.protocol"], "SASL_SSL");
    assert.equal(props["eu-west-1.sasl.mechanism"], "AWS_MSK_IAM");
    for (const alias of ["dc1", "eu-west-1"]) {
      assert.equal(props[`${alias}.ssl.endpoint.identification.algorithm`], "https");
    }
    assert.doesNotMatch(text, /PLAINTEXT/);
    const scram = mirrorMakerProperties(
      "demo",
      { alias: "x", bootstrap: "x:9096", auth: "scram-sha-512", username: "u", secretEnv: "S" },
      { alias: "y", bootstrap: "y:9093", auth: "event-hubs", secretEnv: "T" },
    );
    assert.match(
      scram,
      /^x\.sasl\.jaas\.config=.*ScramLoginModule required username="u" password="\$\{env:S\}";$/m,
    );
    assert.match(
      scram,
      /^y\.sasl\.jaas\.config=.*PlainLoginModule required username="\$ConnectionString" password="\$\{env:T\}";$/m,
    );
  });
});

function exportsContract(run: StackRun) {
  assert.deepEqual(Object.keys(run.exports).sort(), [...REGION_OUTPUT_NAMES].sort());
  const flows = run.exports.replication as Record<string, string>[];
  for (const flow of flows) assert.deepEqual(Object.keys(flow).sort(), FLOW_KEYS);
  peerWiring(run, flows);
  return flows;
}

/**
 * Every Strata container is told of each peer of the flows: the consumer (STRATA_PEER_REGIONS,
 * as its loader reads it) applies the topic each MirrorMaker 2 flow lands in, and serving gets
 * each peer's Redis (STRATA_PEER_REDIS) and follows each peer's registry copy (STRATA_PEER_REGIONS). An MSK Replicator flow lands under an alias MSK
 * generates, which the consumer does not read (docs/changelog.md, "Topics").
 */
function peerWiring(run: StackRun, flows: Record<string, string>[]) {
  const config = parseStackConfig(stripped(run.config));
  const peers = [...new Set(flows.map((f) => f.from))];
  const containers = stackContainers(run, config.serving.image);
  assert.ok(
    containers.some((c) => c.role === "ingest") && containers.some((c) => c.role === "serve"),
  );
  for (const container of containers.filter((c) => c.role !== "reconcile")) {
    // Both follow the registry copy each MirrorMaker 2 flow of the registry lands in.
    const followed = registryTopics(config.project, new EnvReader(container.env).peerRegions());
    for (const flow of flows.filter((f) => f.sourceTopic === registryTopic(config.project))) {
      assert.equal(
        followed.includes(flow.targetTopic!),
        flow.via === "mirrormaker2",
        `${container.owner}: ${flow.via} flow into ${flow.targetTopic}`,
      );
    }
    if (container.role === "ingest") {
      const ingest = loadIngestConfig(container.env);
      assert.deepEqual(ingest.peerRegions, peers, container.owner);
      const applied = changelogSources(config.project, ingest.region, ingest.peerRegions).map(
        (s) => s.topic,
      );
      for (const flow of flows.filter((f) => f.sourceTopic === changelogTopic(config.project))) {
        assert.equal(
          applied.includes(flow.targetTopic!),
          flow.via === "mirrormaker2",
          `${container.owner}: ${flow.via} flow into ${flow.targetTopic}`,
        );
      }
      assert.equal(container.env.STRATA_PEER_REDIS, undefined, container.owner);
    } else {
      const items = container.env.STRATA_PEER_REDIS?.split(";") ?? [];
      assert.deepEqual(
        items.map((item) => item.split("=")[0]),
        peers,
        container.owner,
      );
      const byName = new Map(config.peers.map((p) => [p.region, p.redis]));
      for (const item of items) {
        const [name, target] = [
          item.slice(0, item.indexOf("=")),
          item.slice(item.indexOf("=") + 1),
        ];
        assert.equal(target, byName.get(name), container.owner);
      }
      // Serving follows each peer's registry copy too (docs/registry.md).
      assert.deepEqual(
        new EnvReader(container.env).peerRegions(),
        peers,
        `${container.owner}: the peers whose registry copies serving follows`,
      );
    }
  }
}

describe("the aws-eu-west-1 example stack (peer: onprem-dc1) under Pulumi mocks", () => {
  let run: StackRun;
  before(async () => {
    run = await runStack("aws-eu-west-1", withPeerCredentials(stackFileConfig("aws-eu-west-1")));
  });

  it("runs one MirrorMaker 2 service for the Strimzi peer, mutual TLS to it, IAM to its own MSK", () => {
    assert.equal(ofType(run, "aws:msk/replicator:Replicator").length, 0, "dc1 is not MSK");
    const service = one(run, "aws:ecs/service:Service", "from-dc1");
    assert.equal(service.inputs.desiredCount, 1);
    assert.equal(service.inputs.networkConfiguration.assignPublicIp, false);
    const [container] = JSON.parse(
      one(run, "aws:ecs/taskDefinition:TaskDefinition", "from-dc1").inputs.containerDefinitions,
    ) as {
      image: string;
      user: string;
      environment: { name: string; value: string }[];
      secrets: { name: string; valueFrom: string }[];
    }[];
    assert.match(container!.image, /strata-mm2/);
    assert.equal(container!.user, "1000");
    const env = Object.fromEntries(container!.environment.map((v) => [v.name, v.value]));
    assert.match(env.MM2_PROPERTIES!, /^dc1\.bootstrap\.servers=kafka-dc1\.corp\.example:9094$/m);
    assert.match(env.MM2_PROPERTIES!, /^dc1\.security\.protocol=SSL$/m);
    assert.match(env.MM2_PROPERTIES!, /^eu-west-1\.sasl\.mechanism=AWS_MSK_IAM$/m);
    assert.match(
      env.MM2_PROPERTIES!,
      /^dc1->eu-west-1\.topics=strata\\\\\.demo\\\\\.changelog\|strata\\\\\.demo\\\\\.registry$/m,
    );
    assert.match(env.PEER_CA!, /BEGIN CERTIFICATE/);
    // The client key and certificate come from Secrets Manager, never from the task definition.
    const secret = one(run, "aws:secretsmanager/secret:Secret", "from-dc1");
    assert.deepEqual(
      container!.secrets.map((s) => [s.name, s.valueFrom]),
      [
        [
          "PEER_CREDENTIAL_CERT",
          `arn:aws:mock:us-east-1:111122223333:${secret.name}:certificate::`,
        ],
        ["PEER_CREDENTIAL_KEY", `arn:aws:mock:us-east-1:111122223333:${secret.name}:key::`],
      ],
    );
    assert.doesNotMatch(JSON.stringify(container), /PRIVATE KEY/);
    const task = JSON.parse(
      one(run, "aws:iam/rolePolicy:RolePolicy", "from-dc1-task").inputs.policy,
    );
    assert.deepEqual(wildcardActions(task), []);
    assert.ok(
      (task.Statement as { Resource: string[] }[]).some((s) =>
        s.Resource.some((r) => r.endsWith("/dc1.strata.demo.*")),
      ),
      "writes dc1's prefixed topics here",
    );
  });

  it("schedules the reconcile task with EventBridge Scheduler, every 15 minutes", () => {
    const schedule = one(run, "aws:scheduler/schedule:Schedule", "reconcile");
    assert.equal(schedule.inputs.scheduleExpression, "cron(0/15 * * * ? *)");
    assert.equal(schedule.inputs.scheduleExpressionTimezone, "UTC");
    const definition = one(run, "aws:ecs/taskDefinition:TaskDefinition", "reconcile");
    assert.equal(
      schedule.inputs.target.ecsParameters.taskDefinitionArn,
      `arn:aws:mock:us-east-1:111122223333:${definition.name}:1`,
    );
    assert.equal(schedule.inputs.target.ecsParameters.launchType, "FARGATE");
    const cluster = one(run, "aws:ecs/cluster:Cluster");
    assert.equal(schedule.inputs.target.arn, `arn:aws:mock:us-east-1:111122223333:${cluster.name}`);
    const [container] = JSON.parse(definition.inputs.containerDefinitions) as {
      command: string[];
      environment: { name: string; value?: string }[];
      readonlyRootFilesystem: boolean;
    }[];
    assert.deepEqual(container!.command, RECONCILE_COMMAND);
    const peers = stackFileConfig("aws-eu-west-1")["strata:peers"] as object[];
    assert.equal(
      envValue(container!.environment, "STRATA_RECONCILE_REGIONS"),
      expectedRegions(container!.environment, "eu-west-1", peers),
      "this region first, at its own Redis, then dc1's",
    );
    assert.equal(container!.readonlyRootFilesystem, true);
    assert.deepEqual(
      container!.environment.map((v) => v.name).filter((n) => /PORT/.test(n)),
      [],
      "a job listens on nothing",
    );
    const scheduler = JSON.parse(
      one(run, "aws:iam/rolePolicy:RolePolicy", "reconcile-scheduler").inputs.policy,
    );
    assert.deepEqual(
      (scheduler.Statement as { Action: string[] }[]).flatMap((s) => s.Action).sort(),
      ["ecs:RunTask", "iam:PassRole"],
    );
  });

  it("lets its consumer read the replicated changelog, and exports the flow", () => {
    const consumer = JSON.parse(
      one(run, "aws:iam/rolePolicy:RolePolicy", "ingest-task").inputs.policy,
    );
    // Read, and created when the consumer starts before replication first copied anything.
    const peerTopics = (consumer.Statement as { Action: string[]; Resource: string[] }[]).find(
      (s) => s.Resource.some((r) => r.endsWith("/*.strata.demo.*")),
    );
    assert.deepEqual(peerTopics?.Action.sort(), [
      "kafka-cluster:CreateTopic",
      "kafka-cluster:DescribeTopic",
      "kafka-cluster:ReadData",
    ]);
    assert.deepEqual(exportsContract(run), [
      {
        from: "dc1",
        via: "mirrormaker2",
        sourceTopic: "strata.demo.changelog",
        targetTopic: "dc1.strata.demo.changelog",
      },
      {
        from: "dc1",
        via: "mirrormaker2",
        sourceTopic: "strata.demo.registry",
        targetTopic: "dc1.strata.demo.registry",
      },
    ]);
  });
});

describe("the three example stacks given peers", () => {
  it("aws-us-east-1: an MSK Replicator for an MSK peer, MM2 for the others, one each", async () => {
    const run = await runStack(
      "aws-us-east-1",
      withPeerCredentials({
        ...stackFileConfig("aws-us-east-1"),
        "strata:peers": [PEERS.euWestMsk, PEERS.dc1],
      }),
    );
    const replicator = one(run, "aws:msk/replicator:Replicator");
    const info = replicator.inputs.replicationInfoList;
    assert.equal(info.sourceKafkaClusterArn, PEERS.euWestMsk.clusterArn);
    assert.match(info.targetKafkaClusterArn, /:cluster\/strata-demo-us-east-1-kafka\//);
    assert.deepEqual(info.topicReplications[0].topicsToReplicates, [
      "strata\\.demo\\.changelog|strata\\.demo\\.registry",
    ]);
    assert.equal(
      info.topicReplications[0].topicNameConfiguration.type,
      "PREFIXED_WITH_SOURCE_CLUSTER_ALIAS",
    );
    assert.equal(info.topicReplications[0].startingPosition.type, "EARLIEST");
    assert.deepEqual(info.consumerGroupReplications[0].consumerGroupsToReplicates, []);
    assert.deepEqual(replicator.inputs.kafkaClusters[0].amazonMskCluster, {
      mskClusterArn: PEERS.euWestMsk.clusterArn,
    });
    const role = JSON.parse(
      one(run, "aws:iam/rolePolicy:RolePolicy", "from-eu-west-1").inputs.policy,
    );
    assert.deepEqual(wildcardActions(role), []);
    const sourceWrites = (role.Statement as { Action: string[]; Resource: string[] }[]).filter(
      (s) =>
        s.Action.includes("kafka-cluster:WriteData") &&
        s.Resource.some((r) => r.includes("eu-west-1-kafka")),
    );
    assert.deepEqual(sourceWrites, [], "nothing is written to the peer");
    assert.equal(
      ofType(run, "aws:ecs/service:Service").filter((s) => s.name.includes("-from-")).length,
      1,
    );
    assert.deepEqual(exportsContract(run), [
      {
        from: "eu-west-1",
        via: "msk-replicator",
        sourceTopic: "strata.demo.changelog",
        targetTopic: `${replicator.name}-alias.strata.demo.changelog`,
      },
      {
        from: "eu-west-1",
        via: "msk-replicator",
        sourceTopic: "strata.demo.registry",
        targetTopic: `${replicator.name}-alias.strata.demo.registry`,
      },
      {
        from: "dc1",
        via: "mirrormaker2",
        sourceTopic: "strata.demo.changelog",
        targetTopic: "dc1.strata.demo.changelog",
      },
      {
        from: "dc1",
        via: "mirrormaker2",
        sourceTopic: "strata.demo.registry",
        targetTopic: "dc1.strata.demo.registry",
      },
    ]);
    assert.deepEqual(
      ofType(run, "aws:scheduler/schedule:Schedule")
        .map((r) => r.name.replace(/^.*-/, ""))
        .sort(),
      ["drift", "reconcile"],
      "the reconcile schedule, besides the drift evaluation's",
    );
    const job = JSON.parse(
      one(run, "aws:ecs/taskDefinition:TaskDefinition", "reconcile").inputs.containerDefinitions,
    )[0].environment as { name: string; value?: string }[];
    assert.equal(
      envValue(job, "STRATA_RECONCILE_REGIONS"),
      expectedRegions(job, "us-east-1", [PEERS.euWestMsk, PEERS.dc1]),
    );
  });

  it("azure-westeurope: an MM2 container app and a compacted hub per peer, a scheduled job", async () => {
    const run = await runStack(
      "azure-westeurope",
      withPeerCredentials({
        ...stackFileConfig("azure-westeurope"),
        "strata:peers": [PEERS.dc1, PEERS.usEast],
        "strata:reconcileSchedule": "5 * * * *",
      }),
    );
    const mm2 = ofType(run, "azure-native:app:ContainerApp").filter((a) =>
      a.name.includes("-from-"),
    );
    assert.deepEqual(mm2.map((a) => a.name.split("-from-")[1]).sort(), ["dc1", "us-east-1"]);
    for (const app of mm2) {
      const container = app.inputs.template.containers[0];
      const env = container.env as { name: string; value?: string; secretRef?: string }[];
      const props = env.find((v) => v.name === "MM2_PROPERTIES")!.value!;
      assert.match(props, /^westeurope\.security\.protocol=SASL_SSL$/m);
      assert.match(props, /^westeurope\.sasl\.mechanism=PLAIN$/m);
      assert.equal(app.inputs.configuration.ingress, undefined, "MM2 takes no traffic");
      for (const v of env.filter((x) => /CREDENTIAL/.test(x.name))) {
        assert.ok(v.secretRef && v.value === undefined, `${v.name} comes from the vault`);
      }
      for (const s of app.inputs.configuration.secrets as { keyVaultUrl: string }[]) {
        assert.match(s.keyVaultUrl, /^https:\/\/vault\.example\/secrets\//);
      }
    }
    const dc1 = mm2.find((a) => a.name.endsWith("-dc1"))!;
    assert.match(dc1.inputs.template.containers[0].env[0].value, /^dc1\.security\.protocol=SSL$/m);
    const usEast = mm2.find((a) => a.name.endsWith("-us-east-1"))!;
    assert.match(
      usEast.inputs.template.containers[0].env[0].value,
      /^us-east-1\.sasl\.mechanism=SCRAM-SHA-512$/m,
    );
    const hubs = ofType(run, "azure-native:eventhub:EventHub").filter((h) =>
      /^(dc1|us-east-1)\./.test(h.inputs.eventHubName),
    );
    assert.deepEqual(
      hubs
        .map((h) => [
          h.inputs.eventHubName,
          h.inputs.retentionDescription.cleanupPolicy,
          h.inputs.partitionCount,
        ])
        .sort(),
      [
        ["dc1.strata.demo.changelog", "Compact", 12],
        ["dc1.strata.demo.registry", "Compact", 1],
        ["us-east-1.strata.demo.changelog", "Compact", 12],
        ["us-east-1.strata.demo.registry", "Compact", 1],
      ],
    );
    const job = one(run, "azure-native:app:Job");
    assert.equal(job.inputs.configuration.triggerType, "Schedule");
    assert.equal(job.inputs.configuration.scheduleTriggerConfig.cronExpression, "5 * * * *");
    assert.deepEqual(job.inputs.template.containers[0].command, RECONCILE_COMMAND);
    const jobEnv = job.inputs.template.containers[0].env;
    assert.equal(
      envValue(jobEnv, "STRATA_RECONCILE_REGIONS"),
      expectedRegions(jobEnv, "westeurope", [PEERS.dc1, PEERS.usEast]),
    );
    assert.deepEqual(
      exportsContract(run).map((f) => [f.from, f.via, f.targetTopic]),
      [
        ["dc1", "mirrormaker2", "dc1.strata.demo.changelog"],
        ["dc1", "mirrormaker2", "dc1.strata.demo.registry"],
        ["us-east-1", "mirrormaker2", "us-east-1.strata.demo.changelog"],
        ["us-east-1", "mirrormaker2", "us-east-1.strata.demo.registry"],
      ],
    );
  });

  it("onprem-dc1: a KafkaMirrorMaker2 per peer, TLS and authentication on both clusters, a CronJob", async () => {
    const run = await runStack(
      "onprem-dc1",
      withPeerCredentials({
        ...stackFileConfig("onprem-dc1"),
        "strata:peers": [PEERS.usEast, PEERS.westeurope],
      }),
    );
    const mirrors = ofType(run, "kubernetes:kafka.strimzi.io/v1beta2:KafkaMirrorMaker2");
    assert.equal(mirrors.length, 2);
    for (const m of mirrors) {
      const [here, peer] = m.inputs.spec.clusters as {
        alias: string;
        tls: object;
        authentication: { type: string; passwordSecret?: object; username?: string };
        config?: Record<string, unknown>;
      }[];
      assert.equal(here!.alias, "dc1");
      assert.equal(
        here!.config?.["scheduled.rebalance.max.delay.ms"],
        0,
        "a restarted worker takes the flow back at once",
      );
      assert.equal(m.inputs.spec.connectCluster, "dc1", "MM2 runs next to its target");
      assert.deepEqual(here!.authentication.type, "tls");
      assert.ok(peer!.tls, "TLS to the peer");
      assert.ok(peer!.authentication.passwordSecret, "the peer's password from a Secret");
      const [mirror] = m.inputs.spec.mirrors;
      assert.deepEqual([mirror.sourceCluster, mirror.targetCluster], [peer!.alias, "dc1"]);
      assert.equal(mirror.topicsPattern, "strata\\.demo\\.changelog|strata\\.demo\\.registry");
      assert.equal(
        mirror.sourceConnector.config["replication.policy.class"],
        "org.apache.kafka.connect.mirror.DefaultReplicationPolicy",
      );
    }
    const auth = Object.fromEntries(
      mirrors.map((m) => [
        m.inputs.spec.clusters[1].alias,
        m.inputs.spec.clusters[1].authentication,
      ]),
    );
    assert.equal(auth["us-east-1"].type, "scram-sha-512");
    assert.equal(auth["us-east-1"].username, "strata-peer");
    assert.deepEqual(
      [auth.westeurope.type, auth.westeurope.username],
      ["plain", "$ConnectionString"],
    );
    const cron = one(run, "kubernetes:batch/v1:CronJob", "reconcile");
    assert.equal(cron.inputs.spec.schedule, "*/15 * * * *");
    assert.equal(cron.inputs.spec.concurrencyPolicy, "Forbid");
    const pod = cron.inputs.spec.jobTemplate.spec.template.spec;
    assert.deepEqual(pod.containers[0].command, RECONCILE_COMMAND);
    assert.equal(
      envValue(pod.containers[0].env, "STRATA_RECONCILE_REGIONS"),
      expectedRegions(pod.containers[0].env, "dc1", [PEERS.usEast, PEERS.westeurope]),
    );
    assert.equal(pod.containers[0].securityContext.readOnlyRootFilesystem, true);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    const ingest = ofType(run, "kubernetes:kafka.strimzi.io/v1beta2:KafkaUser").find((u) =>
      u.name.endsWith("-ingest"),
    )!;
    const reads = (
      ingest.inputs.spec.authorization.acls as {
        resource: { name: string };
        operations: string[];
      }[]
    )
      .filter((a) => a.operations.includes("Read"))
      .map((a) => a.resource.name);
    assert.ok(
      reads.includes("us-east-1.strata.demo.") && reads.includes("westeurope.strata.demo."),
    );
    // The consumer creates a peer's copy that MirrorMaker 2 has not created yet.
    for (const peer of ["us-east-1", "westeurope"]) {
      const acl = (
        ingest.inputs.spec.authorization.acls as {
          resource: { name: string };
          operations: string[];
        }[]
      ).find((a) => a.resource.name === `${peer}.strata.demo.`);
      assert.deepEqual(acl?.operations, ["Describe", "Create", "Read"], peer);
    }
    assert.ok(
      ofType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy").some((p) =>
        p.name.endsWith("-mirrormaker2"),
      ),
    );
    // The peers read this region's changelog over a TLS listener with mutual-TLS authentication.
    const listeners = one(run, "kubernetes:kafka.strimzi.io/v1beta2:Kafka").inputs.spec.kafka
      .listeners as {
      name: string;
      port: number;
      tls: boolean;
      authentication: { type: string };
    }[];
    const peerListener = listeners.find((l) => l.name === "peers")!;
    assert.deepEqual(
      [peerListener.port, peerListener.tls, peerListener.authentication.type],
      [9094, true, "tls"],
    );
    for (const peer of ["us-east-1", "westeurope"]) {
      const user = ofType(run, "kubernetes:kafka.strimzi.io/v1beta2:KafkaUser").find((u) =>
        u.name.endsWith(`-peer-${peer}`),
      )!;
      const acls = user.inputs.spec.authorization.acls as {
        resource: { name?: string };
        operations: string[];
      }[];
      assert.deepEqual(
        acls
          .flatMap((a) => a.operations)
          .filter((o) => !["Describe", "DescribeConfigs", "Read"].includes(o)),
        [],
        `${peer}'s replicator only reads`,
      );
      assert.deepEqual(acls.map((a) => a.resource.name).filter(Boolean), [
        "strata.demo.changelog",
        "strata.demo.registry",
      ]);
    }
    assert.equal(exportsContract(run).length, 4, "two topics from each of two peers");
  });

  it("a lone region declares no replication and no schedule, and exports an empty list", async () => {
    for (const stack of ["aws-us-east-1", "azure-westeurope", "onprem-dc1"]) {
      const run = await runStack(stack, stackFileConfig(stack));
      assert.deepEqual(exportsContract(run), [], stack);
      assert.deepEqual(
        run.resources
          .filter(
            (r) =>
              /msk\/replicator|scheduler\/|CronJob|KafkaMirrorMaker2|app:Job|^strata:\w+:(Replication|Reconcile)$/.test(
                r.type,
              ) && !/-drift$/.test(r.name),
          )
          .map((r) => r.type),
        [],
        stack,
      );
    }
  });
});
