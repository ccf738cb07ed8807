// The Kafka ACLs that following the published registry needs on Strimzi (KafkaUsers with simple
// authorization), and no more: serving and the consumer read the registry topic and the peers'
// copies in their own reader groups, which they delete on stop; serving reads no changelog and
// writes no registry.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  ofType,
  runStack,
  stackFileConfig,
  withPeerCredentials,
  type StackRun,
} from "./pulumi-mocks.js";

interface Acl {
  resource: { type: string; name?: string; patternType?: string };
  operations: string[];
}

function acls(run: StackRun, userSuffix: string): Acl[] {
  const users = ofType(run, "kubernetes:kafka.strimzi.io/v1beta2:KafkaUser").filter((u) =>
    String(u.inputs.metadata.name).endsWith(userSuffix),
  );
  assert.equal(users.length, 1, `one KafkaUser *${userSuffix}`);
  return users[0]!.inputs.spec.authorization.acls as Acl[];
}

/** Kafka's simple authorizer: the operations allowed on a topic or group of that exact name. */
function allowed(list: Acl[], type: "topic" | "group", name: string): string[] {
  const operations = list
    .filter((a) => a.resource.type === type)
    .filter((a) =>
      a.resource.patternType === "prefix"
        ? name.startsWith(a.resource.name!)
        : a.resource.name === name || a.resource.name === "*",
    )
    .flatMap((a) => a.operations);
  return [...new Set(operations)].sort();
}

/** The ACLs that allow one operation, by resource. */
function grantsOf(list: Acl[], operation: string): Acl["resource"][] {
  return list.filter((a) => a.operations.includes(operation)).map((a) => a.resource);
}

const PEER = {
  region: "eu-west-1",
  cloud: "aws",
  bootstrap: "b-1.euw1.kafka.eu-west-1.amazonaws.com:9096",
  auth: "scram-sha-512",
  username: "strata-peer",
  redis: "cluster://clustercfg.strata-demo-eu-west-1.euw1.cache.amazonaws.com:6379",
};

for (const peers of [[], [PEER]]) {
  describe(`the onprem-dc1 stack's registry ACLs (${peers.length} peer)`, () => {
    let run: StackRun;
    const copies = peers.map((p) => `${p.region}.strata.demo.registry`);
    const reader = "strata.demo.registry-reader.0b5e1c4e-8d7a-4f7e-9a51-3c2d1e0f9a8b";
    const readerGroups = {
      type: "group",
      name: "strata.demo.registry-reader.",
      patternType: "prefix",
    };

    before(async () => {
      const config = stackFileConfig("onprem-dc1");
      run = await runStack(
        "onprem-dc1",
        withPeerCredentials(peers.length > 0 ? { ...config, "strata:peers": peers } : config),
      );
    });

    it("lets serving read the registry and the peers' copies, in reader groups it may delete", () => {
      const serve = acls(run, "-serve");
      assert.deepEqual(grantsOf(serve, "Read"), [
        { type: "topic", name: "strata.demo.registry", patternType: "literal" },
        ...copies.map((name) => ({ type: "topic", name, patternType: "literal" })),
        readerGroups,
      ]);
      assert.deepEqual(grantsOf(serve, "Delete"), [readerGroups]);
      assert.deepEqual(allowed(serve, "group", reader), ["Delete", "Describe", "Read"]);
      assert.deepEqual(allowed(serve, "topic", "strata.demo.registry"), [
        "Create",
        "Describe",
        "DescribeConfigs",
        "Read",
      ]);
      for (const copy of copies) {
        assert.deepEqual(allowed(serve, "topic", copy), ["Create", "Describe", "Read"], copy);
      }
    });

    it("never lets serving read a changelog or write the registry", () => {
      const serve = acls(run, "-serve");
      for (const changelog of [
        "strata.demo.changelog",
        ...peers.map((p) => `${p.region}.strata.demo.changelog`),
      ]) {
        assert.ok(!allowed(serve, "topic", changelog).includes("Read"), changelog);
      }
      assert.deepEqual(grantsOf(serve, "Write"), [
        { type: "topic", name: "strata.demo.changelog", patternType: "literal" },
      ]);
      assert.deepEqual(allowed(serve, "group", "strata.demo.ingest-dc1"), []);
    });

    it("lets the consumer read the registry and the peers' copies and delete its reader groups only", () => {
      const ingest = acls(run, "-ingest");
      for (const registry of ["strata.demo.registry", ...copies]) {
        const operations = allowed(ingest, "topic", registry);
        assert.ok(operations.includes("Read") && operations.includes("Describe"), registry);
      }
      assert.deepEqual(grantsOf(ingest, "Delete"), [readerGroups]);
      assert.deepEqual(allowed(ingest, "group", reader), ["Delete", "Describe", "Read"]);
    });

    if (peers.length > 0) {
      it("lets the reconcile job delete its registry reader's group only", () => {
        const reconcile = acls(run, "-reconcile");
        assert.deepEqual(grantsOf(reconcile, "Delete"), [readerGroups]);
        assert.ok(allowed(reconcile, "topic", "strata.demo.registry").includes("Read"));
      });
    }
  });
}
