import type * as pulumi from "@pulumi/pulumi";
import { AwsRegion } from "./aws/region.js";
import { AzureRegion } from "./azure/region.js";
import { cdcStackKeys } from "./cdc/config.js";
import { StackConfigError, type StackConfig } from "./config.js";
import { KubernetesRegion } from "./kubernetes/region.js";
import { needsCredentials, peerCredentialsKey } from "./peers.js";
import type { RegionComponent } from "./region-stack.js";

/** Secret configuration (`pulumi config set --secret`): never in the stack file in clear. */
export interface StackSecrets {
  /** strata:apiKeys: the JSON list of API key records, SHA-256 hashes only (docs/serving.md). */
  apiKeys: pulumi.Input<string> | undefined;
  /** strata:argoToken: the bearer token the drift function submits retraining workflows with. */
  argoToken: pulumi.Input<string> | undefined;
  /** strata:redisPassword: the Redis AUTH password (Kubernetes; the clouds generate their own). */
  redisPassword: pulumi.Input<string> | undefined;
  /**
   * strata:peerCredentials-<peer>, by peer region: the secret half of each peer's login (a SCRAM
   * password, an Event Hubs connection string, or a JSON {"certificate","key"} PEM pair for mTLS).
   */
  peerCredentials: Record<string, pulumi.Input<string> | undefined>;
  /**
   * Azure with `strata:cdc`: the values of the stack keys it names (each database's password,
   * a secret, and CA certificate), by key; the stack stores them in the region's Key Vault.
   */
  cdcValues: Record<string, pulumi.Input<string> | undefined>;
}

/** Each peer's credential, checked present for every peer whose login needs one. */
export type PeerCredentials = Record<string, pulumi.Input<string>>;

function peerCredentials(config: StackConfig, secrets: StackSecrets): PeerCredentials {
  const found: PeerCredentials = {};
  for (const peer of config.peers.filter(needsCredentials)) {
    found[peer.region] = required(
      secrets.peerCredentials[peer.region],
      peerCredentialsKey(peer.region),
      `a secret holding the ${peer.auth} credential of peer ${peer.region}`,
    );
  }
  return found;
}

/** The values of the stack keys `strata:cdc` names (Azure), each checked present. */
function cdcValues(
  config: StackConfig,
  secrets: StackSecrets,
): Record<string, pulumi.Input<string>> {
  return Object.fromEntries(
    cdcStackKeys(config.cloud, config.cdc).map((key) => [
      key,
      required(
        secrets.cdcValues[key],
        key,
        "the value strata:cdc names (a database password, set with --secret, or a PEM CA certificate)",
      ),
    ]),
  );
}

/** The region component of the configured cloud: the same outputs whichever it is. */
export function deployRegion(config: StackConfig, secrets: StackSecrets): RegionComponent {
  const apiKeys = required(secrets.apiKeys, "apiKeys", "a secret JSON list of API key hashes");
  const peers = peerCredentials(config, secrets);
  const cdc = cdcValues(config, secrets);
  const argoToken = required(
    secrets.argoToken,
    "argoToken",
    "a secret holding Argo Workflows' bearer token (the drift function's retraining trigger)",
  );
  switch (config.cloud) {
    case "aws":
      return new AwsRegion(config, apiKeys, argoToken, peers);
    case "azure":
      return new AzureRegion(config, apiKeys, argoToken, peers, cdc);
    case "kubernetes":
      return new KubernetesRegion(config, {
        apiKeys,
        argoToken,
        redisPassword: required(
          secrets.redisPassword,
          "redisPassword",
          "a secret Redis password on Kubernetes",
        ),
        peerCredentials: peers,
      });
  }
}

function required<T>(value: T | undefined, key: string, wanted: string): T {
  if (value === undefined) throw new StackConfigError(key, `is missing; it must be ${wanted}`);
  return value;
}
