import type * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, type StackConfig } from "./config.js";

const KEYS = [
  "cloud",
  "region",
  "project",
  "redis",
  "kafka",
  "serving",
  "network",
  "aws",
  "azure",
  "kubernetes",
  "peers",
  "reconcileSchedule",
  "mirrorMakerImage",
  "collectorImage",
  "offline",
  "drift",
  "functions",
  "cdc",
];

/** Reads the `strata:` keys of the stack (structured values arrive as JSON text) and validates them. */
export function loadStackConfig(settings: pulumi.Config): StackConfig {
  const raw: Record<string, unknown> = {};
  for (const key of KEYS) raw[key] = settings.get(key);
  return parseStackConfig(raw);
}
