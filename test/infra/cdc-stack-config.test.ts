import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { repoRoot } from "../../dev/stack/paths.js";
import { DEBEZIUM_VERSION } from "../../infra/cdc/names.js";
import { connectorEnvName, registerConnectorsScript } from "../../infra/cdc/register.js";
import { parseStackConfig, StackConfigError } from "../../infra/config.js";
import { awsCdc, azureCdc, fakePluginArchive, kubernetesCdc } from "./cdc-config.js";
import { stackFileConfig } from "./pulumi-mocks.js";

const stripped = (config: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^strata:/, ""), v]));

const STACKS = {
  aws: ["aws-us-east-1", () => awsCdc(fakePluginArchive())],
  azure: ["azure-westeurope", azureCdc],
  kubernetes: ["onprem-dc1", kubernetesCdc],
} as const;

type Cdc = { databases: Record<string, Record<string, unknown>> } & Record<string, unknown>;

function parseWith(cloud: keyof typeof STACKS, change: (cdc: Cdc) => void) {
  const [stack, make] = STACKS[cloud];
  const cdc = structuredClone(make()) as Cdc;
  change(cdc);
  return parseStackConfig(stripped({ ...stackFileConfig(stack), "strata:cdc": cdc }));
}

function refuses(cloud: keyof typeof STACKS, change: (cdc: Cdc) => void, message: RegExp) {
  assert.throws(
    () => parseWith(cloud, change),
    (e: unknown) => e instanceof StackConfigError && message.test(e.message),
  );
}

describe("strata:cdc configuration", () => {
  it("is optional: a stack without it has no cdc", () => {
    for (const [stack] of Object.values(STACKS)) {
      assert.equal(parseStackConfig(stripped(stackFileConfig(stack))).cdc, undefined);
    }
  });

  it("parses each cloud's secret references, verify-full by default", () => {
    const aws = parseWith("aws", () => {}).cdc!;
    assert.deepEqual(aws.databases.payments!.passwordSecret, {
      name: "rds!db-payments",
      key: "password",
    });
    assert.deepEqual(aws.databases.crm!.passwordSecret, { name: "strata/cdc/crm", key: "secret" });
    assert.deepEqual(aws.databases.payments!.sslRootCertSecret, {
      bucket: "corp-ca-bundles",
      key: "rds/us-east-1-bundle.pem",
    });
    assert.equal(aws.databases.payments!.sslmode, "verify-full");
    const k8s = parseWith("kubernetes", () => {}).cdc!;
    assert.deepEqual(k8s.databases.crm!.passwordSecret, { name: "crm-db-cdc", key: "pgpass" });
    assert.deepEqual(k8s.databases.payments!.sslRootCertSecret, {
      name: "payments-db-ca",
      key: "ca.crt",
    });
    assert.equal(
      k8s.buildOutput!.image,
      "registry.corp.example/strata-connect-debezium:3.6.1.Final",
    );
    const azure = parseWith("azure", () => {}).cdc!;
    assert.equal(azure.databases.payments!.passwordSecret.name, "cdcPassword-payments");
    assert.equal(
      azure.connectImage,
      "strataregistry.azurecr.io/strata-connect-debezium:3.6.1.Final",
    );
  });

  it("refuses a password in clear, naming the key and where the secret goes instead", () => {
    refuses(
      "aws",
      (c) => (c.databases.payments!.password = "hunter2"),
      /strata:cdc\.databases\.payments\.password is set; a stack never holds it in clear: name it with passwordSecret \(a Secrets Manager secret name/,
    );
    refuses(
      "kubernetes",
      (c) => (c.databases.crm!.sslRootCert = "-----BEGIN CERTIFICATE-----"),
      /strata:cdc\.databases\.crm\.sslRootCert is set/,
    );
  });

  it("refuses any sslmode but verify-full", () => {
    for (const mode of ["disable", "require"]) {
      refuses(
        "azure",
        (c) => (c.databases.crm!.sslmode = mode),
        new RegExp(
          `strata:cdc\\.databases\\.crm\\.sslmode is "${mode}"; .* it must be verify-full`,
        ),
      );
    }
  });

  it("requires the root certificate, in the form of the stack's cloud", () => {
    refuses(
      "aws",
      (c) => delete c.databases.crm!.sslRootCertSecret,
      /strata:cdc\.databases\.crm\.sslRootCertSecret is missing; it must be an S3 object location/,
    );
    refuses(
      "kubernetes",
      (c) => (c.databases.crm!.sslRootCertSecret = "Not_A_Secret"),
      /strata:cdc\.databases\.crm\.sslRootCertSecret is "Not_A_Secret"; it must be a Secret of the region's namespace/,
    );
  });

  it("refuses an ARN as the AWS password secret (Kafka's reference syntax splits on ':')", () => {
    refuses(
      "aws",
      (c) =>
        (c.databases.crm!.passwordSecret =
          "arn:aws:secretsmanager:us-east-1:111122223333:secret:crm-AbCdEf"),
      /strata:cdc\.databases\.crm\.passwordSecret is "arn:aws:.*"; it must be a Secrets Manager secret name/,
    );
  });

  it("refuses sources naming an unknown database, a database without sources, duplicates and bad tables", () => {
    refuses(
      "aws",
      (c) =>
        ((c.sources as object[])[0] = { name: "cards", database: "ledger", table: "public.cards" }),
      /strata:cdc\.sources\[0\]\.database is "ledger"; it must be one of strata:cdc\.databases \(payments, crm\)/,
    );
    refuses(
      "aws",
      (c) =>
        (c.sources = (c.sources as { database: string }[]).filter((s) => s.database !== "crm")),
      /strata:cdc\.databases\.crm is named by no cdc source/,
    );
    refuses(
      "aws",
      (c) => (c.sources as object[]).push({ name: "cards", database: "crm", table: "crm.cards" }),
      /strata:cdc\.sources\[3\]\.name is "cards" again/,
    );
    refuses(
      "aws",
      (c) =>
        ((c.sources as object[])[2] = { name: "customers", database: "crm", table: "customers" }),
      /strata:cdc\.sources\[2\]\.table is "customers"; it must be a table as "<schema>\.<table>"/,
    );
  });

  it("requires each cloud's worker artifact: the plugin zip, the Connect image, the build output", () => {
    refuses(
      "aws",
      (c) => (c.pluginArchive = "artifacts/cdc/nope.zip"),
      /strata:cdc\.pluginArchive is "artifacts\/cdc\/nope\.zip", which does not exist/,
    );
    refuses("azure", (c) => delete c.connectImage, /strata:cdc\.connectImage is missing/);
    refuses(
      "kubernetes",
      (c) => (c.buildOutput = { image: "registry.corp.example/connect" }),
      /strata:cdc\.buildOutput\.image is "registry\.corp\.example\/connect"; it must be the image reference \(with a tag\)/,
    );
  });

  it("accepts the commented example in Pulumi.onprem-dc1.yaml", () => {
    const lines = readFileSync(path.join(repoRoot, "Pulumi.onprem-dc1.yaml"), "utf8").split("\n");
    const start = lines.indexOf("  # strata:cdc:");
    assert.ok(start > 0, "the example is there");
    const block = lines
      .slice(start)
      .filter((l) => l.startsWith("  #   ") || l === "  # strata:cdc:");
    const example = parse(block.map((l) => l.slice(4)).join("\n")) as Record<string, unknown>;
    const config = parseStackConfig(stripped({ ...stackFileConfig("onprem-dc1"), ...example }));
    assert.deepEqual(Object.keys(config.cdc!.databases), ["payments"]);
    assert.deepEqual(config.cdc!.sources, [
      { name: "cards", database: "payments", table: "public.cards" },
    ]);
  });

  it("pins the same Debezium version in the plugin pom as in the stacks", () => {
    const pom = readFileSync(path.join(repoRoot, "dev/connect/debezium/pom.xml"), "utf8");
    assert.equal(/<debezium\.version>([^<]+)</.exec(pom)?.[1], DEBEZIUM_VERSION);
    assert.equal(DEBEZIUM_VERSION, "3.6.1.Final");
  });
});

describe("the Azure worker's registration sidecar script", () => {
  it("PUTs each connector's config until the worker accepts it, with the JSON from its variable", async () => {
    const received: { url: string; body: string }[] = [];
    let refusals = 1;
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        // The worker is not ready yet the first time: the script must retry.
        if (refusals-- > 0) {
          res.writeHead(503).end();
          return;
        }
        received.push({ url: `${req.method} ${req.url}`, body });
        res.writeHead(201).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const configs = [
      { "database.password": "${env:CDC_PASSWORD_A}", "table.include.list": "public\\.a" },
      { "database.password": "${env:CDC_PASSWORD_B}" },
    ];
    const script = registerConnectorsScript(["strata-demo-cdc-a", "strata-demo-cdc-b"], port)
      // Retry at once instead of every 10 s, for the test.
      .replace("sleep 10", "sleep 0.1");
    // Its own process group: the idle loop's `sleep` goes down with the shell.
    const child = spawn("sh", ["-c", script], {
      detached: true,
      env: {
        PATH: process.env.PATH,
        [connectorEnvName(0)]: JSON.stringify(configs[0]),
        [connectorEnvName(1)]: JSON.stringify(configs[1]),
      },
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    try {
      const deadline = Date.now() + 10_000;
      while (!out.includes("registered strata-demo-cdc-b") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.deepEqual(received, [
        { url: "PUT /connectors/strata-demo-cdc-a/config", body: JSON.stringify(configs[0]) },
        { url: "PUT /connectors/strata-demo-cdc-b/config", body: JSON.stringify(configs[1]) },
      ]);
      assert.equal(child.exitCode, null, "the sidecar stays up after registering");
    } finally {
      process.kill(-child.pid!, "SIGKILL");
      server.close();
    }
  });

  it("refuses a connector name that is not URL-safe", () => {
    assert.throws(() => registerConnectorsScript(["a b"]), /not URL-safe/);
  });
});
