import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { kubernetesCdc } from "./cdc-config.js";
import { everyDatabasePassword, ingestEnv } from "./cdc-assertions.js";
import { stackContainers } from "./container-env.js";
import { ofType, one, runStack, stackFileConfig, type StackRun } from "./pulumi-mocks.js";

const NS = "strata-demo-dc1";
const CONNECT = "strata-kafka-cdc";
const STRIMZI = "kubernetes:kafka.strimzi.io/v1beta2:";

const ofKind = (run: StackRun, kind: string) => ofType(run, `${STRIMZI}${kind}`);

describe("the onprem-dc1 stack with strata:cdc: Strimzi KafkaConnect and KafkaConnectors", () => {
  let run: StackRun;
  const base = stackFileConfig("onprem-dc1");

  before(async () => {
    run = await runStack("onprem-dc1", { ...base, "strata:cdc": kubernetesCdc() });
  });

  const connect = () =>
    ofKind(run, "KafkaConnect").find((r) => r.inputs.metadata.name === CONNECT)!;
  const connectors = () =>
    ofKind(run, "KafkaConnector").filter((r) => String(r.inputs.metadata.name).includes("-cdc-"));

  it("builds the Connect image with the Debezium PostgreSQL plugin 3.6.1.Final from Maven", () => {
    const spec = connect().inputs.spec;
    assert.deepEqual(spec.build, {
      output: {
        type: "docker",
        image: "registry.corp.example/strata-connect-debezium:3.6.1.Final",
        pushSecret: "registry-push",
      },
      plugins: [
        {
          name: "debezium-postgres",
          artifacts: [
            {
              type: "maven",
              group: "io.debezium",
              artifact: "debezium-connector-postgres",
              version: "3.6.1.Final",
            },
          ],
        },
      ],
    });
    assert.equal(spec.image, undefined, "the built image, not a prebuilt one");
    assert.equal(
      connect().inputs.metadata.annotations["strimzi.io/use-connector-resources"],
      "true",
    );
  });

  it("runs the worker with Strimzi's KubernetesSecretConfigProvider, its own group and topics, mutual TLS to Kafka", () => {
    const spec = connect().inputs.spec;
    assert.equal(spec.config["config.providers"], "secrets");
    assert.equal(
      spec.config["config.providers.secrets.class"],
      "io.strimzi.kafka.KubernetesSecretConfigProvider",
    );
    assert.equal(spec.config["group.id"], "strata.demo.cdc-connect");
    assert.equal(spec.config["offset.storage.topic"], "strata.demo.cdc-connect-offsets");
    assert.equal(spec.authentication.type, "tls");
    assert.equal(spec.authentication.certificateAndKey.secretName, CONNECT);
    assert.equal(spec.template.pod.metadata.labels["strata.io/client"], "true");
    assert.equal(spec.template.connectContainer.securityContext.readOnlyRootFilesystem, true);
  });

  it("mounts each root certificate Secret read-only where the connector's sslrootcert points", () => {
    const template = connect().inputs.spec.template as {
      pod: { volumes: { secret: { secretName: string } }[] };
      connectContainer: { volumeMounts: { mountPath: string; readOnly: boolean }[] };
    };
    assert.deepEqual(
      template.pod.volumes.map((v) => v.secret.secretName),
      ["payments-db-ca", "corp-ca"],
    );
    assert.deepEqual(
      template.connectContainer.volumeMounts.map((m) => [m.mountPath, m.readOnly]),
      [
        ["/mnt/strata-cdc/payments-db-ca", true],
        ["/mnt/strata-cdc/corp-ca", true],
      ],
    );
  });

  it("declares one KafkaConnector per database: Debezium's class, the password as a Secret reference, verify-full", () => {
    const byName = Object.fromEntries(connectors().map((c) => [c.inputs.metadata.name, c.inputs]));
    assert.deepEqual(Object.keys(byName).sort(), [
      "strata-demo-cdc-crm",
      "strata-demo-cdc-payments",
    ]);
    const payments = byName["strata-demo-cdc-payments"]!;
    const crm = byName["strata-demo-cdc-crm"]!;
    for (const c of [payments, crm]) {
      assert.equal(c.metadata.labels["strimzi.io/cluster"], CONNECT);
      assert.equal(c.spec.class, "io.debezium.connector.postgresql.PostgresConnector");
      assert.equal(c.spec.tasksMax, 1);
      assert.equal(c.spec.config["database.sslmode"], "verify-full");
    }
    assert.equal(
      payments.spec.config["database.password"],
      `\${secrets:${NS}/payments-db-cdc:password}`,
    );
    assert.equal(crm.spec.config["database.password"], `\${secrets:${NS}/crm-db-cdc:pgpass}`);
    assert.equal(
      payments.spec.config["database.sslrootcert"],
      "/mnt/strata-cdc/payments-db-ca/ca.crt",
    );
    assert.equal(crm.spec.config["database.sslrootcert"], "/mnt/strata-cdc/corp-ca/root.pem");
    assert.equal(crm.spec.config["table.include.list"], "crm\\.customers");
  });

  it("holds no database password in clear in any resource's inputs", () => {
    const passwords = everyDatabasePassword(run);
    assert.equal(passwords.length, 2);
    for (const value of passwords) assert.match(value, /^\$\{secrets:[^}]+\}$/);
  });

  it("lets the Connect service account get exactly the password Secrets", () => {
    const role = one(run, "kubernetes:rbac.authorization.k8s.io/v1:Role", "cdc-secrets").inputs;
    assert.deepEqual(role.rules, [
      {
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: ["crm-db-cdc", "payments-db-cdc"],
        verbs: ["get"],
      },
    ]);
    const binding = one(
      run,
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
      "cdc-secrets",
    ).inputs;
    assert.deepEqual(binding.subjects, [
      { kind: "ServiceAccount", name: `${CONNECT}-connect`, namespace: NS },
    ]);
    assert.equal(binding.roleRef.kind, "Role");
  });

  it("limits the Connect user to writing the CDC table topics and Connect's own topics and group", () => {
    const user = ofKind(run, "KafkaUser").find((u) => u.inputs.metadata.name === CONNECT)!;
    const acls = user.inputs.spec.authorization.acls as {
      resource: { type: string; name?: string; patternType?: string };
      operations: string[];
    }[];
    const topics = acls.filter((a) => a.resource.type === "topic");
    assert.deepEqual(topics[0], {
      resource: { type: "topic", name: "strata.demo.cdc.", patternType: "prefix" },
      operations: ["Describe", "DescribeConfigs", "Create", "Write"],
      host: "*",
    });
    assert.ok(
      topics
        .slice(1)
        .every(
          (a) => a.resource.patternType === "literal" && /cdc-connect-/.test(a.resource.name!),
        ),
    );
    assert.ok(!acls.some((a) => a.resource.name === "*"), "no wildcard resource");
  });

  it("turns the consumer's CDC mapper on, naming the databases without a password", () => {
    const env = ingestEnv(stackContainers(run, "strata-serve:0.1.0"));
    assert.equal(env.STRATA_CDC, "on");
    const databases = JSON.parse(env.STRATA_CDC_DATABASES!) as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepEqual(Object.keys(databases).sort(), ["crm", "payments"]);
    assert.ok(!JSON.stringify(databases).includes("password"));
  });
});

describe("the onprem-dc1 stack without strata:cdc", () => {
  it("declares no CDC KafkaConnect, KafkaConnector, Role or STRATA_CDC", async () => {
    const run = await runStack("onprem-dc1", stackFileConfig("onprem-dc1"));
    assert.deepEqual(
      ofKind(run, "KafkaConnect").map((r) => r.inputs.metadata.name),
      ["strata-kafka-offline"],
    );
    assert.deepEqual(
      ofKind(run, "KafkaConnector").map((r) => r.inputs.metadata.name),
      ["strata-demo-offline"],
    );
    assert.equal(
      ofType(run, "kubernetes:rbac.authorization.k8s.io/v1:Role").filter((r) =>
        r.name.includes("cdc"),
      ).length,
      0,
    );
    const env = ingestEnv(stackContainers(run, "strata-serve:0.1.0"));
    assert.equal(env.STRATA_CDC, undefined);
    assert.equal(env.STRATA_CDC_DATABASES, undefined);
  });
});
