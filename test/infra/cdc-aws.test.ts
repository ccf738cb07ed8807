import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { wildcardActions } from "../../infra/aws/policies.js";
import { awsCdc, fakePluginArchive } from "./cdc-config.js";
import { stackContainers } from "./container-env.js";
import { ofType, one, runStack, stackFileConfig, type StackRun } from "./pulumi-mocks.js";
import { everyDatabasePassword, ingestEnv } from "./cdc-assertions.js";

const PREFIX = "strata-demo-us-east-1";
const CLUSTER = "arn:aws:kafka:us-east-1:111122223333";
const CONNECTOR = "aws:mskconnect/connector:Connector";

describe("the aws-us-east-1 stack with strata:cdc: Debezium on MSK Connect", () => {
  let run: StackRun;
  const base = stackFileConfig("aws-us-east-1");
  const archive = fakePluginArchive();

  before(async () => {
    run = await runStack("aws-us-east-1", { ...base, "strata:cdc": awsCdc(archive) });
  });

  const cdcConnectors = () =>
    ofType(run, CONNECTOR).filter((c) => String(c.inputs.name).includes("-cdc-"));

  it("uploads the built plugin zip to S3 and declares it as the custom plugin, Debezium 3.6.1.Final", async () => {
    const object = one(run, "aws:s3/bucketObjectv2:BucketObjectv2", "cdc-plugin").inputs;
    assert.equal(object.bucket, `${PREFIX}-offline-warehouse`);
    assert.equal(object.key, "plugins/strata-debezium-postgres-3.6.1.Final.zip");
    assert.equal(await (object.source as { path: Promise<string> }).path, archive, "the built zip");
    const plugin = one(run, "aws:mskconnect/customPlugin:CustomPlugin", "cdc-debezium").inputs;
    assert.equal(plugin.contentType, "ZIP");
    assert.match(plugin.description, /Debezium PostgreSQL connector 3\.6\.1\.Final/);
    assert.deepEqual(plugin.location.s3, {
      bucketArn: `arn:aws:s3:::${PREFIX}-offline-warehouse`,
      fileKey: "plugins/strata-debezium-postgres-3.6.1.Final.zip",
      objectVersion: `${PREFIX}-cdc-plugin-version-1`,
    });
  });

  it("configures the workers with the Secrets Manager and S3 import config providers", () => {
    const worker = one(run, "aws:mskconnect/workerConfiguration:WorkerConfiguration", "cdc").inputs
      .propertiesFileContent as string;
    const lines = worker.split("\n");
    for (const line of [
      "config.providers=secretsmanager,s3import",
      "config.providers.secretsmanager.class=com.amazonaws.kafka.config.providers.SecretsManagerConfigProvider",
      "config.providers.secretsmanager.param.region=us-east-1",
      "config.providers.s3import.class=com.amazonaws.kafka.config.providers.S3ImportConfigProvider",
    ]) {
      assert.ok(lines.includes(line), line);
    }
  });

  it("declares one connector per database, with the plugin, the worker configuration, IAM and TLS to MSK", () => {
    const connectors = cdcConnectors();
    assert.deepEqual(connectors.map((c) => c.inputs.name).sort(), [
      "strata-demo-cdc-crm",
      "strata-demo-cdc-payments",
    ]);
    for (const { inputs } of connectors) {
      const config = inputs.connectorConfiguration as Record<string, string>;
      assert.equal(config["connector.class"], "io.debezium.connector.postgresql.PostgresConnector");
      assert.equal(config["topic.prefix"], "strata.demo.cdc");
      assert.equal(config["plugin.name"], "pgoutput");
      assert.equal(
        inputs.plugins[0].customPlugin.arn,
        `arn:aws:mock:us-east-1:111122223333:${PREFIX}-cdc-debezium`,
      );
      assert.equal(
        inputs.workerConfiguration.arn,
        `arn:aws:mock:us-east-1:111122223333:${PREFIX}-cdc-worker`,
      );
      assert.equal(inputs.kafkaClusterClientAuthentication.authenticationType, "IAM");
      assert.equal(inputs.kafkaClusterEncryptionInTransit.encryptionType, "TLS");
      assert.equal(inputs.kafkaCluster.apacheKafkaCluster.vpc.subnets.length, 3);
    }
    const payments = connectors.find((c) => c.inputs.name === "strata-demo-cdc-payments")!;
    const config = payments.inputs.connectorConfiguration as Record<string, string>;
    assert.equal(config["table.include.list"], "public\\.cards,public\\.merchants");
    assert.equal(config["database.hostname"], "payments.cluster-x.us-east-1.rds.amazonaws.com");
  });

  it("references each password in Secrets Manager and verifies the server against the root certificate from S3", () => {
    const byName = Object.fromEntries(
      cdcConnectors().map((c) => [c.inputs.name, c.inputs.connectorConfiguration]),
    ) as Record<string, Record<string, string>>;
    const payments = byName["strata-demo-cdc-payments"]!;
    const crm = byName["strata-demo-cdc-crm"]!;
    assert.equal(payments["database.password"], "${secretsmanager:rds!db-payments:password}");
    assert.equal(crm["database.password"], "${secretsmanager:strata/cdc/crm:secret}");
    assert.equal(payments["database.sslmode"], "verify-full");
    assert.equal(crm["database.sslmode"], "verify-full");
    assert.equal(
      payments["database.sslrootcert"],
      "${s3import:us-east-1:corp-ca-bundles/rds/us-east-1-bundle.pem}",
    );
    assert.equal(
      crm["database.sslrootcert"],
      "${s3import:us-east-1:corp-ca-bundles/internal-ca.pem}",
    );
  });

  it("holds no database password in clear in any resource's inputs", () => {
    const passwords = everyDatabasePassword(run);
    assert.equal(passwords.length, 2);
    for (const value of passwords) assert.match(value, /^\$\{secretsmanager:[^}]+\}$/);
  });

  it("gives the connectors' role exactly the two secrets, the two certificates and the CDC topics", () => {
    const policy = one(run, "aws:iam/rolePolicy:RolePolicy", "cdc-connect").inputs.policy as string;
    assert.deepEqual(wildcardActions(policy), []);
    const statements = JSON.parse(policy).Statement as { Action: string[]; Resource: string[] }[];
    const on = (action: string) =>
      statements.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource);
    assert.deepEqual(on("secretsmanager:GetSecretValue"), [
      "arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!db-payments-??????",
      "arn:aws:secretsmanager:us-east-1:111122223333:secret:strata/cdc/crm-??????",
    ]);
    assert.deepEqual(on("s3:GetObject"), [
      "arn:aws:s3:::corp-ca-bundles/rds/us-east-1-bundle.pem",
      "arn:aws:s3:::corp-ca-bundles/internal-ca.pem",
    ]);
    assert.deepEqual(on("kafka-cluster:WriteData"), [
      `${CLUSTER}:topic/${PREFIX}-kafka/0000/strata.demo.cdc.*`,
      `${CLUSTER}:topic/${PREFIX}-kafka/0000/__amazon_msk_connect_*`,
    ]);
  });

  it("turns the consumer's CDC mapper on, naming the databases without a password", () => {
    const env = ingestEnv(
      stackContainers(run, String((base["strata:serving"] as { image: string }).image)),
    );
    assert.equal(env.STRATA_CDC, "on");
    const databases = JSON.parse(env.STRATA_CDC_DATABASES!) as Record<string, object>;
    assert.deepEqual(Object.keys(databases).sort(), ["crm", "payments"]);
    assert.deepEqual(databases.payments, {
      host: "payments.cluster-x.us-east-1.rds.amazonaws.com",
      port: 5432,
      dbname: "app",
      user: "strata_cdc",
      sslmode: "verify-full",
    });
  });

  it("stops with the key named when the plugin zip has not been built", async () => {
    await assert.rejects(
      runStack("aws-us-east-1", {
        ...base,
        "strata:cdc": awsCdc("artifacts/cdc/missing-plugin.zip"),
      }),
      /strata:cdc\.pluginArchive is "artifacts\/cdc\/missing-plugin\.zip", which does not exist; build it with npm run build:cdc-plugin/,
    );
  });
});

describe("the aws-us-east-1 stack without strata:cdc", () => {
  it("declares no Debezium plugin, worker configuration or CDC connector, and no STRATA_CDC", async () => {
    const base = stackFileConfig("aws-us-east-1");
    const run = await runStack("aws-us-east-1", base);
    assert.deepEqual(
      ofType(run, CONNECTOR).map((c) => c.inputs.name),
      ["strata-demo-offline"],
    );
    assert.equal(ofType(run, "aws:mskconnect/workerConfiguration:WorkerConfiguration").length, 0);
    assert.equal(ofType(run, "aws:s3/bucketObjectv2:BucketObjectv2").length, 0);
    assert.equal(
      ofType(run, "aws:mskconnect/customPlugin:CustomPlugin").length,
      1,
      "the Iceberg sink's only",
    );
    const env = ingestEnv(
      stackContainers(run, String((base["strata:serving"] as { image: string }).image)),
    );
    assert.equal(env.STRATA_CDC, undefined);
    assert.equal(env.STRATA_CDC_DATABASES, undefined);
  });
});
