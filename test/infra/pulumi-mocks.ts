// Runs the Pulumi program (infra/index.ts) under Pulumi's mocks with a stack's configuration,
// recording every resource it declares and resolving its exports. No cloud, no engine.
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { repoRoot } from "../../dev/stack/paths.js";

export interface DeclaredResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

export interface StackRun {
  resources: DeclaredResource[];
  exports: Record<string, unknown>;
  config: Record<string, unknown>;
}

/** The `config:` map of a committed example stack file. */
export function stackFileConfig(stack: string): Record<string, unknown> {
  const text = readFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), "utf8");
  return (parse(text) as { config: Record<string, unknown> }).config;
}

/** Outputs the mocks compute, as a provider would (addresses, ARNs, ids). */
function computed(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const arn = `arn:aws:mock:us-east-1:111122223333:${name}`;
  switch (type) {
    case "aws:lb/loadBalancer:LoadBalancer":
      return { arn, dnsName: `${name}.elb.example` };
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return { arn, configurationEndpointAddress: `${name}.cache.example` };
    case "aws:msk/cluster:Cluster":
      return {
        arn: `arn:aws:kafka:us-east-1:111122223333:cluster/${name}/0000`,
        bootstrapBrokersSaslIam: `b-1.${name}.kafka.example:9098,b-2.${name}.kafka.example:9098`,
      };
    case "aws:msk/replicator:Replicator":
      return {
        arn,
        replicationInfoList: {
          ...(inputs.replicationInfoList as object),
          sourceKafkaClusterAlias: `${name}-alias`,
        },
      };
    case "aws:ecs/taskDefinition:TaskDefinition":
      return { arn: `${arn}:1`, arnWithoutRevision: arn };
    case "aws:glue/catalogDatabase:CatalogDatabase":
      return { arn: `arn:aws:glue:us-east-1:111122223333:database/${String(inputs.name)}` };
    case "aws:s3/bucket:Bucket":
      return { arn: `arn:aws:s3:::${name}`, bucket: name };
    case "aws:lambda/functionUrl:FunctionUrl":
      return { functionUrl: `https://${name}.lambda-url.us-east-1.on.aws/` };
    case "aws:lambda/function:Function":
      return { arn, name };
    case "aws:mskconnect/customPlugin:CustomPlugin":
    case "aws:mskconnect/workerConfiguration:WorkerConfiguration":
      return { arn, latestRevision: 1 };
    case "aws:s3/bucketObjectv2:BucketObjectv2":
      return { arn, versionId: `${name}-version-1` };
    case "aws:amp/workspace:Workspace":
      return { arn, prometheusEndpoint: `https://aps.example/workspaces/${name}/` };
    case "aws:msk/configuration:Configuration":
      return { arn, latestRevision: 1 };
    case "azure-native:redis:Redis":
      return { hostName: `${name}.redis.example`, sslPort: 6380 };
    case "azure-native:app:ContainerApp":
      return {
        configuration: {
          ...(inputs.configuration as object),
          ingress: {
            ...((inputs.configuration as { ingress?: object }).ingress ?? {}),
            fqdn: `${name}.apps.example`,
          },
        },
      };
    case "azure-native:monitor:AzureMonitorWorkspace":
      return { metrics: { prometheusQueryEndpoint: `https://${name}.prometheus.example` } };
    case "azure-native:managedidentity:UserAssignedIdentity":
      return {
        principalId: "00000000-0000-0000-0000-00000000aaaa",
        clientId: `${name}-client-id`,
      };
    case "azure-native:keyvault:Secret":
      return {
        properties: {
          ...(inputs.properties as object),
          secretUri: `https://vault.example/secrets/${name}`,
        },
      };
    case "azure-native:operationalinsights:Workspace":
      return { customerId: "00000000-0000-0000-0000-00000000bbbb" };
    default:
      if (type.startsWith("kubernetes:")) {
        // Auto-naming: a resource without metadata.name gets one from its Pulumi name.
        const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
        return { metadata: { ...metadata, name: metadata.name ?? name } };
      }
      return type.startsWith("aws:") ? { arn } : {};
  }
}

function invoke(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return {
        names: ["us-east-1a", "us-east-1b", "us-east-1c"],
        zoneIds: ["use1-az1", "use1-az2", "use1-az3"],
      };
    case "aws:secretsmanager/getRandomPassword:getRandomPassword":
      return { randomPassword: "mock-password" };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: "111122223333", arn: "arn:aws:iam::111122223333:user/ci", userId: "ci" };
    case "aws:ec2/getVpc:getVpc":
      return { cidrBlock: "10.0.0.0/16" };
    case "azure-native:authorization:getClientConfig":
      return {
        subscriptionId: "11111111-2222-3333-4444-555555555555",
        tenantId: "t",
        clientId: "c",
        objectId: "o",
      };
    case "azure-native:redis:listRedisKeys":
      return { primaryKey: "mock-key", secondaryKey: "mock-key-2" };
    case "azure-native:eventhub:listNamespaceKeys":
      return {
        primaryConnectionString: "Endpoint=sb://mock/;SharedAccessKeyName=strata;SharedAccessKey=x",
      };
    case "azure-native:operationalinsights:getSharedKeys":
      return { primarySharedKey: "mock-shared-key" };
    default:
      return inputs;
  }
}

/** Pulumi's wire form of a secret value; the tests read through it. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function unsecret(value: unknown): any {
  if (Array.isArray(value)) return value.map(unsecret);
  if (typeof value !== "object" || value === null) return value;
  // An asset's path or text (pulumi.asset.FileAsset): a test awaits it.
  if (value instanceof Promise) return value;
  const record = value as Record<string, unknown>;
  if (SECRET_SIG in record) return unsecret(record.value);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unsecret(v)]));
}

let runs = 0;

/**
 * Imports the program with this configuration (each run a fresh module instance) and returns
 * what it declared and exported. Throws what the program throws.
 */
export async function runStack(stack: string, config: Record<string, unknown>): Promise<StackRun> {
  const resources: DeclaredResource[] = [];
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    flat[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  flat["strata:apiKeys"] ??= JSON.stringify([{ id: "ops", sha256: "0".repeat(64) }]);
  flat["strata:redisPassword"] ??= "mock-redis-password";
  // A test leaves the token out by giving the key as undefined.
  if (!("strata:argoToken" in config)) flat["strata:argoToken"] = "mock-argo-token";
  pulumi.runtime.setAllConfig(flat, [
    "strata:apiKeys",
    "strata:redisPassword",
    "strata:argoToken",
    ...Object.keys(flat).filter(
      (key) => key.startsWith("strata:peerCredentials-") || key.startsWith("strata:cdcPassword-"),
    ),
  ]);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const inputs = unsecret(args.inputs) as Record<string, unknown>;
        resources.push({ type: args.type, name: args.name, inputs });
        return {
          id: `${args.name}-id`,
          state: { name: args.name, ...inputs, ...computed(args.type, args.name, inputs) },
        };
      },
      call: (args) => invoke(args.token, args.inputs),
    },
    "strata",
    stack,
    false,
  );
  const url = `${pathToFileURL(path.join(repoRoot, "infra/index.ts")).href}?run=${++runs}`;
  const module = (await import(url)) as Record<string, unknown>;
  const exports: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(module)) {
    exports[key] = pulumi.Output.isInstance(value)
      ? await new Promise((resolve) =>
          value.apply((v) => {
            resolve(v);
            return v;
          }),
        )
      : value;
  }
  // Resources that feed no export may register a moment later: wait until none arrive.
  let seen = -1;
  while (seen !== resources.length) {
    seen = resources.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { resources, exports, config };
}

export function ofType(run: StackRun, type: string): DeclaredResource[] {
  return run.resources.filter((r) => r.type === type);
}

export function one(run: StackRun, type: string, nameIncludes = ""): DeclaredResource {
  const found = ofType(run, type).filter((r) => r.name.includes(nameIncludes));
  if (found.length !== 1)
    throw new Error(`expected one ${type} named *${nameIncludes}*, found ${found.length}`);
  return found[0]!;
}

/** Resource counts by type, for the closing notes and for humans reading a failure. */
export function countByType(run: StackRun): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}

/** A PEM-shaped placeholder: the mocks never parse a certificate. */
export const MOCK_PEM = (kind: string) =>
  `-----BEGIN ${kind}-----\nbW9jaw==\n-----END ${kind}-----\n`;

/**
 * The stack's configuration with a plausible secret credential for each of its peers, as
 * `pulumi config set --secret strata:peerCredentials-<peer>` would give it, and, when it has
 * peers, the shared retraining claim Redis a peered region must name.
 */
export function withPeerCredentials(config: Record<string, unknown>): Record<string, unknown> {
  const peers = (config["strata:peers"] ?? []) as {
    region: string;
    auth?: string;
    cloud: string;
  }[];
  const credentials: Record<string, string> = {};
  for (const peer of peers) {
    const auth =
      peer.auth ?? { aws: "msk-iam", azure: "event-hubs", kubernetes: "mtls" }[peer.cloud];
    if (auth === "msk-iam") continue;
    credentials[`strata:peerCredentials-${peer.region}`] =
      auth === "mtls"
        ? JSON.stringify({ certificate: MOCK_PEM("CERTIFICATE"), key: MOCK_PEM("PRIVATE KEY") })
        : auth === "event-hubs"
          ? "Endpoint=sb://peer/;SharedAccessKeyName=replication;SharedAccessKey=x"
          : "mock-scram-password";
  }
  // Peered regions claim retraining in one designated Redis (strata:drift.claimRedis).
  const drift = config["strata:drift"] as Record<string, unknown> | undefined;
  const claim =
    peers.length > 0 && drift !== undefined && drift.claimRedis === undefined
      ? { "strata:drift": { ...drift, claimRedis: "rediss://redis-claims.example:6379" } }
      : {};
  return { ...config, ...credentials, ...claim };
}
