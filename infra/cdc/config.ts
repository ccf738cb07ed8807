/**
 * The optional `strata:cdc` section: the databases Debezium captures and the repo's cdc sources
 * (which tables of each), with the platform's secret references and TLS settings. Validated
 * with the rest of the configuration, before any resource exists; absent means no CDC pieces.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { CdcSourceDefinition } from "../../shared/registry/definitions.js";
import type { Cloud } from "../config.js";
import {
  configInt,
  configObject,
  configString,
  showConfigValue,
  StackConfigError,
} from "../config.js";
import { parseS3Location, type S3Location } from "../workloads-config.js";
import { PLUGIN_ARCHIVE } from "./names.js";

/** A secret in the platform's store: its name and, where the store holds several values, the key. */
export interface SecretRef {
  name: string;
  key: string;
}

/** One database as the stack's Connect worker reaches it: always TLS, the server verified. */
export interface CdcDatabase {
  host: string;
  port: number;
  dbname: string;
  user: string;
  /**
   * AWS: a Secrets Manager secret (name, JSON key); Kubernetes: a Secret of the region's
   * namespace (name, key); Azure: `name` is the stack secret `strata:<name>` the stack stores
   * in the region's Key Vault.
   */
  passwordSecret: SecretRef;
  /** Only `verify-full`: TLS with the server's certificate and host name checked. */
  sslmode: "verify-full";
  /**
   * The CA that signed the server's certificate, PEM. AWS: an S3 object (`s3://bucket/key`);
   * Kubernetes: a Secret of the namespace (name, key); Azure: the stack config key holding it.
   */
  sslRootCertSecret: SecretRef | S3Location;
}

/** Kubernetes: where Strimzi pushes the Connect image it builds with the Debezium plugin. */
export interface CdcBuildOutput {
  image: string;
  /** A kubernetes.io/dockerconfigjson Secret of the namespace allowed to push there. */
  pushSecret?: string;
}

export interface CdcConfig {
  databases: Record<string, CdcDatabase>;
  /** The feature repo's cdc sources: which tables of which database the connectors capture. */
  sources: CdcSourceDefinition[];
  /** AWS: the plugin zip `npm run build:cdc-plugin` produced (a path from the repo root). */
  pluginArchive?: string;
  /** Azure: a Kafka Connect image with the Debezium plugin on its plugin path (and curl). */
  connectImage?: string;
  /** Kubernetes: the image Strimzi's build pushes. */
  buildOutput?: CdcBuildOutput;
}

const DATABASE = /^[a-z][a-z0-9-]{0,30}$/;
const SOURCE = /^[a-z0-9_]+$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z_][A-Za-z0-9_$]*$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const PG_NAME = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;
const AWS_SECRET = /^[A-Za-z0-9/_+=.@!-]{1,512}$/;
const K8S_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const SECRET_KEY = /^[A-Za-z0-9._-]{1,253}$/;
const STACK_KEY = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

/** `name` or `name:key`, each part checked against its pattern. */
function secretRef(
  key: string,
  value: unknown,
  cloud: Cloud,
  defaultKey: string,
  wanted: string,
): SecretRef {
  const text = configString(key, value, /^\S+$/, wanted);
  if (cloud === "azure") {
    // One Key Vault secret holds one value: no key part.
    return { name: configString(key, text, STACK_KEY, wanted), key: "" };
  }
  const colon = text.lastIndexOf(":");
  const name = colon < 0 ? text : text.slice(0, colon);
  const part = colon < 0 ? defaultKey : text.slice(colon + 1);
  const namePattern = cloud === "aws" ? AWS_SECRET : K8S_NAME;
  if (!namePattern.test(name) || !SECRET_KEY.test(part)) {
    throw new StackConfigError(key, `is ${showConfigValue(value)}; it must be ${wanted}`);
  }
  return { name, key: part };
}

const PASSWORD_WANTED: Record<Cloud, string> = {
  aws: "a Secrets Manager secret name, optionally :<json key> (default key password); its ARN does not fit Kafka's ${secretsmanager:...} references",
  azure:
    "the name of a stack secret (pulumi config set --secret strata:<name>) holding the password",
  kubernetes: "a Secret of the region's namespace, optionally :<key> (default key password)",
};
const ROOT_CERT_WANTED: Record<Cloud, string> = {
  aws: "the S3 object (s3://<bucket>/<key>) of the PEM CA certificate that signed the database's",
  azure: "the name of a stack config key (strata:<name>) holding the PEM CA certificate",
  kubernetes: "a Secret of the region's namespace, optionally :<key> (default key ca.crt)",
};

function database(name: string, raw: unknown, cloud: Cloud): CdcDatabase {
  const at = `cdc.databases.${name}`;
  const d = configObject(at, raw);
  for (const forbidden of ["password", "sslRootCert"]) {
    if (d[forbidden] !== undefined) {
      throw new StackConfigError(
        `${at}.${forbidden}`,
        `is set; a stack never holds it in clear: name it with ${forbidden}Secret (${PASSWORD_WANTED[cloud]})`,
      );
    }
  }
  const sslmode = d.sslmode ?? "verify-full";
  if (sslmode !== "verify-full") {
    throw new StackConfigError(
      `${at}.sslmode`,
      `is ${showConfigValue(sslmode)}; a stack connects with TLS and verifies the server's certificate and name: it must be verify-full`,
    );
  }
  const rootKey = `${at}.sslRootCertSecret`;
  return {
    host: configString(`${at}.host`, d.host, HOST, "the database server's host name"),
    port: configInt(`${at}.port`, d.port ?? 5432, 1, 65_535),
    dbname: configString(`${at}.dbname`, d.dbname, PG_NAME, "a PostgreSQL database name"),
    user: configString(`${at}.user`, d.user, PG_NAME, "a PostgreSQL role name (with REPLICATION)"),
    passwordSecret: secretRef(
      `${at}.passwordSecret`,
      d.passwordSecret,
      cloud,
      "password",
      PASSWORD_WANTED[cloud],
    ),
    sslmode,
    sslRootCertSecret:
      cloud === "aws"
        ? parseS3Location(rootKey, d.sslRootCertSecret)
        : secretRef(rootKey, d.sslRootCertSecret, cloud, "ca.crt", ROOT_CERT_WANTED[cloud]),
  };
}

function sources(raw: unknown, databases: Record<string, CdcDatabase>): CdcSourceDefinition[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new StackConfigError(
      "cdc.sources",
      `is ${showConfigValue(raw)}; it must list the feature repo's cdc sources ({ name, database, table })`,
    );
  }
  const seen = new Set<string>();
  return raw.map((value, i) => {
    const at = `cdc.sources[${i}]`;
    const s = configObject(at, value);
    const name = configString(`${at}.name`, s.name, SOURCE, "a cdc source name ([a-z0-9_]+)");
    if (seen.has(name)) throw new StackConfigError(`${at}.name`, `is "${name}" again; each once`);
    seen.add(name);
    const db = configString(`${at}.database`, s.database, DATABASE, "a database name");
    if (databases[db] === undefined) {
      throw new StackConfigError(
        `${at}.database`,
        `is "${db}"; it must be one of strata:cdc.databases (${Object.keys(databases).join(", ")})`,
      );
    }
    const table = configString(`${at}.table`, s.table, TABLE, 'a table as "<schema>.<table>"');
    return { name, database: db, table };
  });
}

/** `strata:cdc`, or undefined when the stack has no CDC. */
export function parseCdc(raw: unknown, cloud: Cloud): CdcConfig | undefined {
  if (raw === undefined) return undefined;
  const c = configObject("cdc", raw);
  const dbs = configObject("cdc.databases", c.databases);
  const names = Object.keys(dbs);
  if (names.length === 0) {
    throw new StackConfigError("cdc.databases", "is empty; it must name at least one database");
  }
  const databases: Record<string, CdcDatabase> = {};
  for (const name of names) {
    if (!DATABASE.test(name)) {
      throw new StackConfigError(
        `cdc.databases.${name}`,
        "is not a database name; it must be lowercase letters, digits and '-' (at most 31)",
      );
    }
    databases[name] = database(name, dbs[name], cloud);
  }
  const config: CdcConfig = { databases, sources: sources(c.sources, databases) };
  // A connector whose table list is empty would capture every table of the database.
  for (const name of names) {
    if (!config.sources.some((s) => s.database === name)) {
      throw new StackConfigError(
        `cdc.databases.${name}`,
        "is named by no cdc source; remove it or add its tables to strata:cdc.sources",
      );
    }
  }
  if (cloud === "aws") {
    config.pluginArchive = configString(
      "cdc.pluginArchive",
      c.pluginArchive ?? PLUGIN_ARCHIVE,
      /^\S+\.zip$/,
      "the path of the plugin zip npm run build:cdc-plugin wrote",
    );
    // Checked here, before any resource: `pulumi up` uploads it.
    if (!existsSync(path.resolve(config.pluginArchive))) {
      throw new StackConfigError(
        "cdc.pluginArchive",
        `is ${JSON.stringify(config.pluginArchive)}, which does not exist; build it with npm run build:cdc-plugin (docs/deploy.md, "Change data capture")`,
      );
    }
  } else if (cloud === "azure") {
    config.connectImage = configString(
      "cdc.connectImage",
      c.connectImage,
      /^\S+$/,
      "a Kafka Connect image with the Debezium PostgreSQL plugin on its plugin path (infra/cdc/plugin/Dockerfile)",
    );
  } else {
    const b = configObject("cdc.buildOutput", c.buildOutput);
    config.buildOutput = {
      image: configString(
        "cdc.buildOutput.image",
        b.image,
        /^\S+:\S+$/,
        "the image reference (with a tag) Strimzi pushes the Connect image it builds to",
      ),
    };
    if (b.pushSecret !== undefined) {
      config.buildOutput.pushSecret = configString(
        "cdc.buildOutput.pushSecret",
        b.pushSecret,
        K8S_NAME,
        "a kubernetes.io/dockerconfigjson Secret of the region's namespace",
      );
    }
  }
  return config;
}

/**
 * Azure: the stack config keys `strata:cdc` names (each database's password and CA
 * certificate), whose values the stack stores in the region's Key Vault. None elsewhere: AWS
 * and Kubernetes reference their secret stores directly.
 */
export function cdcStackKeys(cloud: Cloud, cdc: CdcConfig | undefined): string[] {
  if (cloud !== "azure" || !cdc) return [];
  const keys = Object.values(cdc.databases).flatMap((db) => [
    db.passwordSecret.name,
    (db.sslRootCertSecret as SecretRef).name,
  ]);
  return [...new Set(keys)];
}
