// The environment each example stack gives its Strata containers, as the process will see it:
// the image's own ENV (functions/serve/Dockerfile) under the stack's variables, with secret
// references replaced by plausible values of the same shape.
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../../dev/stack/paths.js";
import { INGEST_COMMAND, SERVE_COMMAND } from "../../infra/region-stack.js";
import { ofType, type StackRun } from "./pulumi-mocks.js";

export interface StackContainer {
  /** Which entry point the command line starts. */
  role: "serve" | "ingest";
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

function roleOf(command: unknown, owner: string): "serve" | "ingest" {
  const text = JSON.stringify(command);
  if (text === JSON.stringify(SERVE_COMMAND)) return "serve";
  if (text === JSON.stringify(INGEST_COMMAND)) return "ingest";
  throw new Error(`${owner}: a container runs ${text}, neither the serve nor the ingest command`);
}

interface NameValue {
  name: string;
  value?: string;
}

/** Every Strata container the stack declares (ECS task definitions, Container Apps, Deployments). */
export function stackContainers(run: StackRun): StackContainer[] {
  const image = imageEnvironment();
  const found: StackContainer[] = [];
  const add = (owner: string, command: unknown, variables: [string, string][]) => {
    found.push({
      role: roleOf(command, owner),
      owner,
      env: { ...image, ...Object.fromEntries(variables) },
    });
  };
  for (const task of ofType(run, "aws:ecs/taskDefinition:TaskDefinition")) {
    const containers = JSON.parse(task.inputs.containerDefinitions as string) as {
      name: string;
      command: string[];
      environment?: NameValue[];
      secrets?: { name: string; valueFrom: string }[];
    }[];
    for (const c of containers) {
      const owner = `${task.name}/${c.name}`;
      add(owner, c.command, [
        ...(c.environment ?? []).map((v): [string, string] => [v.name, v.value ?? ""]),
        ...(c.secrets ?? []).map((s): [string, string] => [s.name, secretValue(s.name, owner)]),
      ]);
    }
  }
  for (const app of ofType(run, "azure-native:app:ContainerApp")) {
    for (const c of app.inputs.template.containers as {
      name: string;
      command: string[];
      env?: (NameValue & { secretRef?: string })[];
    }[]) {
      const owner = `${app.name}/${c.name}`;
      add(
        owner,
        c.command,
        (c.env ?? []).map((v) => [v.name, v.secretRef ? secretValue(v.name, owner) : v.value!]),
      );
    }
  }
  for (const deployment of ofType(run, "kubernetes:apps/v1:Deployment")) {
    for (const c of deployment.inputs.spec.template.spec.containers as {
      name: string;
      command?: string[];
      env?: (NameValue & { valueFrom?: object })[];
    }[]) {
      const owner = `${deployment.name}/${c.name}`;
      // Envoy and other non-Strata containers run their image's own entry point.
      if (!c.command) continue;
      add(
        owner,
        c.command,
        (c.env ?? []).map((v) => [v.name, v.valueFrom ? secretValue(v.name, owner) : v.value!]),
      );
    }
  }
  return found;
}
