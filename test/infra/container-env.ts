// The environment each example stack gives its Strata containers, as the process will see it:
// the image's own ENV (functions/serve/Dockerfile) under the stack's variables, with secret
// references replaced by plausible values of the same shape.
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../../dev/stack/paths.js";
import { INGEST_COMMAND, RECONCILE_COMMAND, SERVE_COMMAND } from "../../infra/region-stack.js";
import { BACKFILL_JOB_COMMAND, DRIFT_JOB_COMMAND } from "../../infra/workload-env.js";
import { ofType, type StackRun } from "./pulumi-mocks.js";

export interface StackContainer {
  /** Which entry point the command line starts. */
  role: "serve" | "ingest" | "reconcile";
  /** The declaring resource, for failure messages. */
  owner: string;
  env: Record<string, string>;
}

/** What a secret store would hand the container, by the variable it lands in. */
const PLAUSIBLE_SECRETS: Record<string, string> = {
  STRATA_API_KEYS: JSON.stringify([{ id: "ops", sha256: "0".repeat(64) }]),
  REDIS_PASSWORD: "mock-redis-password",
  KAFKA_SASL_PASSWORD: "Endpoint=sb://mock/;SharedAccessKeyName=strata;SharedAccessKey=x",
};

function secretValue(variable: string, owner: string): string {
  const value = PLAUSIBLE_SECRETS[variable];
  if (value === undefined) {
    throw new Error(`${owner}: ${variable} comes from a secret; give it a plausible value here`);
  }
  return value;
}

/** ENV of the Dockerfile's last stage (the runtime image), `ENV A=1 \` continuation lines included. */
export function imageEnvironment(): Record<string, string> {
  const text = readFileSync(path.join(repoRoot, "functions/serve/Dockerfile"), "utf8");
  const stages = text.split(/^FROM /m);
  const runtime = stages[stages.length - 1]!.replace(/\\\n/g, " ");
  const env: Record<string, string> = {};
  for (const line of runtime.split("\n")) {
    const match = /^ENV\s+(.*)$/.exec(line.trim());
    if (!match) continue;
    for (const pair of match[1]!.trim().split(/\s+/)) {
      const eq = pair.indexOf("=");
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/** The backfill and drift jobs run the image too; their environments have tests of their own. */
const WORKLOAD_COMMANDS = new Set(
  [BACKFILL_JOB_COMMAND, DRIFT_JOB_COMMAND].map((c) => JSON.stringify(c)),
);

function roleOf(command: unknown, owner: string): StackContainer["role"] | undefined {
  const text = JSON.stringify(command);
  if (WORKLOAD_COMMANDS.has(text)) return undefined;
  if (text === JSON.stringify(SERVE_COMMAND)) return "serve";
  if (text === JSON.stringify(INGEST_COMMAND)) return "ingest";
  if (text === JSON.stringify(RECONCILE_COMMAND)) return "reconcile";
  throw new Error(`${owner}: a container runs ${text}, not a Strata entry point`);
}

interface NameValue {
  name: string;
  value?: string;
}

/**
 * Every Strata container the stack declares (ECS task definitions, Container Apps and jobs,
 * Deployments and CronJobs): those running the stack's serving image. MirrorMaker 2 and Envoy
 * run their own images and entry points.
 */
export function stackContainers(run: StackRun, strataImage: string): StackContainer[] {
  const image = imageEnvironment();
  const found: StackContainer[] = [];
  const add = (
    owner: string,
    containerImage: unknown,
    command: unknown,
    variables: () => [string, string][],
  ) => {
    if (containerImage !== strataImage) return;
    const role = roleOf(command, owner);
    if (role === undefined) return;
    found.push({
      role,
      owner,
      env: { ...image, ...Object.fromEntries(variables()) },
    });
  };
  for (const task of ofType(run, "aws:ecs/taskDefinition:TaskDefinition")) {
    const containers = JSON.parse(task.inputs.containerDefinitions as string) as {
      name: string;
      image: string;
      command: string[];
      environment?: NameValue[];
      secrets?: { name: string; valueFrom: string }[];
    }[];
    for (const c of containers) {
      const owner = `${task.name}/${c.name}`;
      add(owner, c.image, c.command, () => [
        ...(c.environment ?? []).map((v): [string, string] => [v.name, v.value ?? ""]),
        ...(c.secrets ?? []).map((s): [string, string] => [s.name, secretValue(s.name, owner)]),
      ]);
    }
  }
  for (const app of [
    ...ofType(run, "azure-native:app:ContainerApp"),
    ...ofType(run, "azure-native:app:Job"),
  ]) {
    for (const c of app.inputs.template.containers as {
      name: string;
      image: string;
      command: string[];
      env?: (NameValue & { secretRef?: string })[];
    }[]) {
      const owner = `${app.name}/${c.name}`;
      add(owner, c.image, c.command, () =>
        (c.env ?? []).map((v) => [v.name, v.secretRef ? secretValue(v.name, owner) : v.value!]),
      );
    }
  }
  const pods = [
    ...ofType(run, "kubernetes:apps/v1:Deployment").map((d) => ({
      name: d.name,
      spec: d.inputs.spec.template.spec,
    })),
    ...ofType(run, "kubernetes:batch/v1:CronJob").map((c) => ({
      name: c.name,
      spec: c.inputs.spec.jobTemplate.spec.template.spec,
    })),
  ];
  for (const deployment of pods) {
    for (const c of deployment.spec.containers as {
      name: string;
      image: string;
      command?: string[];
      env?: (NameValue & { valueFrom?: object })[];
    }[]) {
      const owner = `${deployment.name}/${c.name}`;
      add(owner, c.image, c.command, () =>
        (c.env ?? []).map((v) => [v.name, v.valueFrom ? secretValue(v.name, owner) : v.value!]),
      );
    }
  }
  return found;
}
