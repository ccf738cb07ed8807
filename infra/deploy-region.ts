import type * as pulumi from "@pulumi/pulumi";
import { AwsRegion } from "./aws/region.js";
import { AzureRegion } from "./azure/region.js";
import { StackConfigError, type StackConfig } from "./config.js";
import { KubernetesRegion } from "./kubernetes/region.js";
import type { RegionComponent } from "./region-stack.js";

/** Secret configuration (`pulumi config set --secret`): never in the stack file in clear. */
export interface StackSecrets {
  /** strata:apiKeys: the JSON list of API key records, SHA-256 hashes only (docs/serving.md). */
  apiKeys: pulumi.Input<string> | undefined;
  /** strata:redisPassword: the Redis AUTH password (Kubernetes; the clouds generate their own). */
  redisPassword: pulumi.Input<string> | undefined;
}

/** The region component of the configured cloud: the same outputs whichever it is. */
export function deployRegion(config: StackConfig, secrets: StackSecrets): RegionComponent {
  const apiKeys = required(secrets.apiKeys, "apiKeys", "a secret JSON list of API key hashes");
  switch (config.cloud) {
    case "aws":
      return new AwsRegion(config, apiKeys);
    case "azure":
      return new AzureRegion(config, apiKeys);
    case "kubernetes":
      return new KubernetesRegion(config, {
        apiKeys,
        redisPassword: required(
          secrets.redisPassword,
          "redisPassword",
          "a secret Redis password on Kubernetes",
        ),
      });
  }
}

function required<T>(value: T | undefined, key: string, wanted: string): T {
  if (value === undefined) throw new StackConfigError(key, `is missing; it must be ${wanted}`);
  return value;
}
