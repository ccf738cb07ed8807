// The `strata:cdc` sections the CDC infra tests add to the example stacks: two databases (so a
// test sees one connector each), the cdc sources naming their tables, and each cloud's secret
// references. No password appears anywhere here except Azure's stack secrets, which go to Key
// Vault.
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const CDC_SOURCES = [
  { name: "cards", database: "payments", table: "public.cards" },
  { name: "merchants", database: "payments", table: "public.merchants" },
  { name: "customers", database: "crm", table: "crm.customers" },
];

const base = (host: string) => ({ host, port: 5432, dbname: "app", user: "strata_cdc" });

/** A stand-in for the plugin zip `npm run build:cdc-plugin` writes (the mocks never read it). */
export function fakePluginArchive(): string {
  const dir = path.join(tmpdir(), `strata-cdc-plugin-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "strata-debezium-postgres-3.6.1.Final.zip");
  writeFileSync(file, "PK\u0005\u0006" + "\0".repeat(18));
  return file;
}

export function awsCdc(pluginArchive: string) {
  return {
    databases: {
      payments: {
        ...base("payments.cluster-x.us-east-1.rds.amazonaws.com"),
        passwordSecret: "rds!db-payments",
        sslRootCertSecret: "s3://corp-ca-bundles/rds/us-east-1-bundle.pem",
      },
      crm: {
        ...base("crm.internal.example"),
        passwordSecret: "strata/cdc/crm:secret",
        sslmode: "verify-full",
        sslRootCertSecret: "s3://corp-ca-bundles/internal-ca.pem",
      },
    },
    sources: CDC_SOURCES,
    pluginArchive,
  };
}

/** Azure: the stack secrets `strata:cdcPassword-*` and the CA config keys hold the values. */
export const AZURE_PASSWORDS = {
  "strata:cdcPassword-payments": "s3cr3t-payments-pw",
  "strata:cdcPassword-crm": "s3cr3t-crm-pw",
};
export const AZURE_CA = "-----BEGIN CERTIFICATE-----\nY2Ftb2Nr\n-----END CERTIFICATE-----\n";

export function azureCdc() {
  return {
    databases: {
      payments: {
        ...base("payments.postgres.database.azure.com"),
        passwordSecret: "cdcPassword-payments",
        sslRootCertSecret: "cdcRootCert",
      },
      crm: {
        ...base("crm.internal.example"),
        passwordSecret: "cdcPassword-crm",
        sslRootCertSecret: "cdcRootCert",
      },
    },
    sources: CDC_SOURCES,
    connectImage: "strataregistry.azurecr.io/strata-connect-debezium:3.6.1.Final",
  };
}

export function kubernetesCdc() {
  return {
    databases: {
      payments: {
        ...base("payments-db.data.svc"),
        passwordSecret: "payments-db-cdc",
        sslRootCertSecret: "payments-db-ca",
      },
      crm: {
        ...base("crm-db.corp.example"),
        passwordSecret: "crm-db-cdc:pgpass",
        sslRootCertSecret: "corp-ca:root.pem",
      },
    },
    sources: CDC_SOURCES,
    buildOutput: {
      image: "registry.corp.example/strata-connect-debezium:3.6.1.Final",
      pushSecret: "registry-push",
    },
  };
}
