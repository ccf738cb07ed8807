// The Kafka rights that following the published registry needs on MSK (IAM), and no more:
// serving and the consumer read the registry topic and the peers' copies in their own reader
// groups, which they delete on stop; serving reads no changelog and writes no registry.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  one,
  runStack,
  stackFileConfig,
  withPeerCredentials,
  type StackRun,
} from "./pulumi-mocks.js";

interface Statement {
  Action: string[];
  Resource: string[];
}

function statements(run: StackRun, role: string): Statement[] {
  const policy = one(run, "aws:iam/rolePolicy:RolePolicy", role).inputs.policy as string;
  return (JSON.parse(policy) as { Statement: Statement[] }).Statement;
}

/** IAM's resource match: `*` any run of characters, `?` one, everything else literal. */
function iamMatches(pattern: string, arn: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(arn);
}

/** The actions a role holds on one ARN, through any statement whose resources match it. */
function actionsOn(list: Statement[], arn: string): string[] {
  const actions = list
    .filter((s) => s.Resource.some((pattern) => iamMatches(pattern, arn)))
    .flatMap((s) => s.Action);
  return [...new Set(actions)].sort();
}

/** The resources of the statements that grant an action. */
function resourcesOf(list: Statement[], action: string): string[] {
  return list.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource);
}

const STACKS = [
  { stack: "aws-us-east-1", region: "us-east-1", peers: [] as string[] },
  { stack: "aws-eu-west-1", region: "eu-west-1", peers: ["dc1"] },
];

for (const { stack, region, peers } of STACKS) {
  describe(`the ${stack} stack's registry rights (MSK IAM)`, () => {
    let run: StackRun;
    // The mocks give every ARN the account and region us-east-1.
    const base = "arn:aws:kafka:us-east-1:111122223333";
    const msk = `strata-demo-${region}-kafka/0000`;
    const topic = (name: string) => `${base}:topic/${msk}/${name}`;
    const readerGroups = `${base}:group/${msk}/strata.demo.registry-reader.*`;
    const aReader = `${base}:group/${msk}/strata.demo.registry-reader.0b5e1c4e-8d7a-4f7e-9a51-3c2d1e0f9a8b`;
    const copies = peers.map((p) => topic(`${p}.strata.demo.registry`));

    before(async () => {
      run = await runStack(stack, withPeerCredentials(stackFileConfig(stack)));
    });

    it("lets serving read the registry and the peers' copies, in reader groups it may delete", () => {
      const serve = statements(run, "serve-task");
      assert.deepEqual(resourcesOf(serve, "kafka-cluster:ReadData"), [
        topic("strata.demo.registry"),
        ...copies,
      ]);
      assert.deepEqual(resourcesOf(serve, "kafka-cluster:DeleteGroup"), [readerGroups]);
      for (const action of ["DescribeGroup", "AlterGroup"]) {
        assert.deepEqual(resourcesOf(serve, `kafka-cluster:${action}`), [readerGroups], action);
      }
      assert.deepEqual(actionsOn(serve, topic("strata.demo.registry")), [
        "kafka-cluster:CreateTopic",
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:DescribeTopicDynamicConfiguration",
        "kafka-cluster:ReadData",
      ]);
      for (const copy of copies) {
        // Created when serving starts before replication first copied the peer's registry.
        assert.deepEqual(actionsOn(serve, copy), [
          "kafka-cluster:CreateTopic",
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:ReadData",
        ]);
      }
    });

    it("never lets serving read a changelog or write the registry", () => {
      const serve = statements(run, "serve-task");
      for (const changelog of [
        topic("strata.demo.changelog"),
        ...peers.map((p) => topic(`${p}.strata.demo.changelog`)),
      ]) {
        assert.ok(!actionsOn(serve, changelog).includes("kafka-cluster:ReadData"), changelog);
      }
      assert.ok(
        !actionsOn(serve, topic("strata.demo.registry")).includes("kafka-cluster:WriteData"),
        "a serving task could publish a registry",
      );
      assert.deepEqual(actionsOn(serve, `${base}:group/${msk}/strata.demo.ingest-${region}`), []);
    });

    it("lets the consumer read the registry and the peers' copies and delete its reader groups only", () => {
      const ingest = statements(run, "ingest-task");
      for (const registry of [topic("strata.demo.registry"), ...copies]) {
        const actions = actionsOn(ingest, registry);
        assert.ok(actions.includes("kafka-cluster:ReadData"), `${registry}: ${actions.join()}`);
        assert.ok(actions.includes("kafka-cluster:DescribeTopic"), registry);
      }
      assert.deepEqual(resourcesOf(ingest, "kafka-cluster:DeleteGroup"), [readerGroups]);
      assert.deepEqual(actionsOn(ingest, aReader), [
        "kafka-cluster:AlterGroup",
        "kafka-cluster:DeleteGroup",
        "kafka-cluster:DescribeGroup",
      ]);
    });

    if (peers.length > 0) {
      it("lets the reconcile job delete its registry reader's group only", () => {
        const reconcile = statements(run, "reconcile-task");
        assert.deepEqual(resourcesOf(reconcile, "kafka-cluster:DeleteGroup"), [readerGroups]);
        assert.ok(
          actionsOn(reconcile, topic("strata.demo.registry")).includes("kafka-cluster:ReadData"),
        );
      });
    }
  });
}
