// The Strata region program: `pulumi up` once per region, with the stack's configuration
// (Pulumi.<stack>.yaml) choosing the cloud and the sizes. See docs/deploy.md.
import * as pulumi from "@pulumi/pulumi";
import { deployRegion } from "./deploy-region.js";
import { cdcStackKeys } from "./cdc/config.js";
import { loadStackConfig } from "./load-config.js";
import { peerCredentialsKey } from "./peers.js";

const settings = new pulumi.Config("strata");
// Validated before any resource is declared: a bad value stops here, naming its key.
const config = loadStackConfig(settings);
const deployed = deployRegion(config, {
  apiKeys: settings.getSecret("apiKeys"),
  redisPassword: settings.getSecret("redisPassword"),
  argoToken: settings.getSecret("argoToken"),
  peerCredentials: Object.fromEntries(
    config.peers.map((p) => [p.region, settings.getSecret(peerCredentialsKey(p.region))]),
  ),
  cdcValues: Object.fromEntries(
    cdcStackKeys(config.cloud, config.cdc).map((key) => [key, settings.getSecret(key)]),
  ),
});

// Exactly the RegionOutputs, on every cloud (infra/region-stack.ts).
export const cloud = deployed.outputs.cloud;
export const region = deployed.outputs.region;
export const servingUrl = deployed.outputs.servingUrl;
export const redisEndpoint = deployed.outputs.redisEndpoint;
export const kafkaBootstrap = deployed.outputs.kafkaBootstrap;
export const metricsEndpoint = deployed.outputs.metricsEndpoint;
export const replication = deployed.outputs.replication;
export const offlineWarehouse = deployed.outputs.offlineWarehouse;
export const offlineConnector = deployed.outputs.offlineConnector;
export const backfillEndpoint = deployed.outputs.backfillEndpoint;
export const driftSchedule = deployed.outputs.driftSchedule;
