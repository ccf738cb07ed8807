import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { AZURE_CA, AZURE_PASSWORDS, azureCdc } from "./cdc-config.js";
import { everyDatabasePassword, ingestEnv } from "./cdc-assertions.js";
import { stackContainers } from "./container-env.js";
import { ofType, one, runStack, stackFileConfig, type StackRun } from "./pulumi-mocks.js";

interface Container {
  name: string;
  image: string;
  command: string[];
  env: { name: string; value?: string; secretRef?: string }[];
  volumeMounts?: { volumeName: string; mountPath: string }[];
}

const APP = "azure-native:app:ContainerApp";

describe("the azure-westeurope stack with strata:cdc: a Kafka Connect worker with Debezium as a Container App", () => {
  let run: StackRun;
  const base = stackFileConfig("azure-westeurope");
  const config = {
    ...base,
    "strata:cdc": azureCdc(),
    ...AZURE_PASSWORDS,
    "strata:cdcRootCert": AZURE_CA,
  };

  before(async () => {
    run = await runStack("azure-westeurope", config);
  });

  const app = () => one(run, APP, "cdc-connect").inputs;
  const container = (name: string) =>
    (app().template.containers as Container[]).find((c) => c.name === name)!;
  const envOf = (c: Container) => Object.fromEntries(c.env.map((v) => [v.name, v]));

  it("runs Kafka Connect in distributed mode from the Debezium image, on Event Hubs' Kafka endpoint", () => {
    const connect = container("connect");
    assert.equal(connect.image, "strataregistry.azurecr.io/strata-connect-debezium:3.6.1.Final");
    assert.match(connect.command.join(" "), /connect-distributed\.sh \/tmp\/worker\.properties/);
    const worker = String(envOf(connect).CONNECT_WORKER!.value).split("\n");
    for (const line of [
      "group.id=strata.demo.cdc-connect",
      "offset.storage.topic=strata.demo.cdc-connect-offsets",
      "config.providers=env",
      "config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider",
      "topic.creation.enable=false",
      "security.protocol=SASL_SSL",
      "producer.sasl.mechanism=PLAIN",
      "listeners=http://127.0.0.1:8083",
    ]) {
      assert.ok(worker.includes(line), line);
    }
    assert.ok(worker.some((l) => l.startsWith("bootstrap.servers=") && l.endsWith(":9093")));
    assert.deepEqual(app().template.scale, { minReplicas: 1, maxReplicas: 1 });
  });

  it("registers one Debezium connector per database: the password as ${env:...}, verify-full, the CA file", () => {
    const register = container("register");
    const script = register.command.join(" ");
    assert.match(script, /curl -fsS .*-X PUT .*connectors\/\$1\/config/);
    assert.match(script, /register strata-demo-cdc-payments "\$CDC_CONNECTOR_0"/);
    assert.match(script, /register strata-demo-cdc-crm "\$CDC_CONNECTOR_1"/);
    const env = envOf(register);
    const payments = JSON.parse(env.CDC_CONNECTOR_0!.value!) as Record<string, string>;
    const crm = JSON.parse(env.CDC_CONNECTOR_1!.value!) as Record<string, string>;
    for (const c of [payments, crm]) {
      assert.equal(c["connector.class"], "io.debezium.connector.postgresql.PostgresConnector");
      assert.equal(c["database.sslmode"], "verify-full");
      assert.equal(c["database.sslrootcert"], "/etc/strata/cdc/cdcrootcert.pem");
    }
    assert.equal(payments["database.password"], "${env:CDC_PASSWORD_PAYMENTS}");
    assert.equal(crm["database.password"], "${env:CDC_PASSWORD_CRM}");
    assert.equal(payments["table.include.list"], "public\\.cards,public\\.merchants");
  });

  it("takes each password from Key Vault: a vault secret, an app secret reference, an env variable", () => {
    const vault = Object.fromEntries(
      ofType(run, "azure-native:keyvault:Secret").map((s) => [s.inputs.secretName, s.inputs]),
    );
    assert.equal(vault["cdc-payments-password"]!.properties.value, "s3cr3t-payments-pw");
    assert.equal(vault["cdc-crm-password"]!.properties.value, "s3cr3t-crm-pw");
    assert.equal(vault["cdc-ca-cdcrootcert"]!.properties.value, AZURE_CA);
    const secrets = Object.fromEntries(
      (app().configuration.secrets as { name: string; keyVaultUrl: string; value?: string }[]).map(
        (s) => [s.name, s],
      ),
    );
    for (const name of ["cdc-payments-password", "cdc-crm-password", "cdc-ca-cdcrootcert"]) {
      assert.match(secrets[name]!.keyVaultUrl, /^https:\/\/vault\.example\/secrets\//, name);
      assert.equal(secrets[name]!.value, undefined, `${name} is a reference, not a value`);
    }
    const env = envOf(container("connect"));
    assert.equal(env.CDC_PASSWORD_PAYMENTS!.secretRef, "cdc-payments-password");
    assert.equal(env.CDC_PASSWORD_CRM!.secretRef, "cdc-crm-password");
    assert.equal(env.KAFKA_CONNECTION!.secretRef, "kafka-connection");
  });

  it("mounts the CA certificate from Key Vault as the file sslrootcert names", () => {
    assert.deepEqual(app().template.volumes, [
      {
        name: "cdc-root-certs",
        storageType: "Secret",
        secrets: [{ secretRef: "cdc-ca-cdcrootcert", path: "cdcrootcert.pem" }],
      },
    ]);
    assert.deepEqual(container("connect").volumeMounts, [
      { volumeName: "cdc-root-certs", mountPath: "/etc/strata/cdc" },
    ]);
  });

  it("holds the passwords nowhere but in the Key Vault secrets", () => {
    for (const value of everyDatabasePassword(run)) assert.match(value, /^\$\{env:[A-Z_]+\}$/);
    for (const password of Object.values(AZURE_PASSWORDS)) {
      const holders = run.resources
        .filter((r) => JSON.stringify(r.inputs).includes(password))
        .map((r) => r.type);
      assert.deepEqual(holders, ["azure-native:keyvault:Secret"], password);
    }
  });

  it("gives the worker's own identity Key Vault Secrets User on exactly its four secrets", () => {
    const identity = one(run, "azure-native:managedidentity:UserAssignedIdentity", "cdc-connect");
    const grants = ofType(run, "azure-native:authorization:RoleAssignment").filter((g) =>
      g.name.includes("-cdc-secret-"),
    );
    assert.equal(grants.length, 4, "the Event Hubs connection string, two passwords, one CA");
    for (const g of grants) {
      assert.match(String(g.inputs.roleDefinitionId), /4633458b-17de-408a-b874-0445c86b69e6$/);
    }
    assert.deepEqual(app().identity.userAssignedIdentities, [`${identity.name}-id`]);
  });

  it("declares Connect's compacted hubs and one hub per captured table", () => {
    const hubs = Object.fromEntries(
      ofType(run, "azure-native:eventhub:EventHub").map((h) => [h.inputs.eventHubName, h.inputs]),
    );
    const configs = hubs["strata.demo.cdc-connect-configs"]!;
    assert.equal(configs.partitionCount, 1);
    assert.equal(configs.retentionDescription.cleanupPolicy, "Compact");
    assert.equal(
      hubs["strata.demo.cdc-connect-offsets"]!.retentionDescription.cleanupPolicy,
      "Compact",
    );
    for (const table of ["public.cards", "public.merchants", "crm.customers"]) {
      assert.ok(hubs[`strata.demo.cdc.${table}`], table);
    }
  });

  it("turns the consumer's CDC mapper on, naming the databases without a password", () => {
    const image = (base["strata:serving"] as { image: string }).image;
    const env = ingestEnv(stackContainers(run, image));
    assert.equal(env.STRATA_CDC, "on");
    const databases = JSON.parse(env.STRATA_CDC_DATABASES!) as Record<string, object>;
    assert.deepEqual(Object.keys(databases).sort(), ["crm", "payments"]);
    assert.ok(!JSON.stringify(databases).includes("password"));
  });

  it("stops, naming the key, when a password the section names is not set", async () => {
    const without: Record<string, unknown> = { ...config };
    delete without["strata:cdcPassword-crm"];
    await assert.rejects(
      runStack("azure-westeurope", without),
      /strata:cdcPassword-crm is missing/,
    );
  });
});

describe("the azure-westeurope stack without strata:cdc", () => {
  it("declares no Connect app, vault secret or hub for CDC, and no STRATA_CDC", async () => {
    const base = stackFileConfig("azure-westeurope");
    const run = await runStack("azure-westeurope", base);
    assert.equal(ofType(run, APP).filter((a) => a.name.includes("cdc")).length, 0);
    assert.equal(
      ofType(run, "azure-native:keyvault:Secret").filter((s) =>
        String(s.inputs.secretName).startsWith("cdc-"),
      ).length,
      0,
    );
    assert.equal(
      ofType(run, "azure-native:eventhub:EventHub").filter((h) =>
        String(h.inputs.eventHubName).includes(".cdc"),
      ).length,
      0,
    );
    const env = ingestEnv(
      stackContainers(run, (base["strata:serving"] as { image: string }).image),
    );
    assert.equal(env.STRATA_CDC, undefined);
    assert.equal(env.STRATA_CDC_DATABASES, undefined);
  });
});
