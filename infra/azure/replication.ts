import app from "@pulumi/azure-native/app/index.js";
import eventhub from "@pulumi/azure-native/eventhub/index.js";
import keyvault from "@pulumi/azure-native/keyvault/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import type { PeerCredentials } from "../deploy-region.js";
import { pemHalf, type PeerRegion } from "../peers.js";
import {
  MIRROR_MAKER_COMMAND,
  mirrorMakerProperties,
  peerEndpoint,
  replicaPartitions,
  replicationFlows,
  type ReplicationFlow,
} from "../replication.js";

export interface AzureReplicationArgs {
  config: StackConfig;
  peerCredentials: PeerCredentials;
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  environmentId: pulumi.Input<string>;
  identityId: pulumi.Input<string>;
  vaultName: pulumi.Input<string>;
  eventHubsNamespaceName: pulumi.Input<string>;
  kafkaBootstrap: pulumi.Input<string>;
  /** Role assignments the identity needs before an app reads the vault. */
  grants: pulumi.Resource[];
}

/**
 * Inbound replication from every peer into this region's Event Hubs (its Kafka endpoint): per
 * peer, the compacted hub that receives the copy (`<peer>.strata.<project>.changelog`) and
 * MirrorMaker 2 as a Container App in the region's internal environment, TLS to both ends, the
 * peer's credential and this namespace's replication key from the Key Vault by identity.
 */
export class AzureReplication extends pulumi.ComponentResource {
  readonly flows: pulumi.Output<ReplicationFlow[]>;

  constructor(name: string, args: AzureReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:Replication", name, {}, opts);
    const parent = { parent: this };
    const { config, resourceGroupName } = args;
    // MM2 creates its own bookkeeping topics (mm2-offsets, -configs, -status): with Event Hubs'
    // Kafka endpoint that takes the Manage right, which Strata's own rule does not have.
    const rule = new eventhub.NamespaceAuthorizationRule(
      `${name}-replication`,
      {
        resourceGroupName,
        namespaceName: args.eventHubsNamespaceName,
        authorizationRuleName: "strata-replication",
        rights: ["Listen", "Send", "Manage"],
      },
      parent,
    );
    const keys = eventhub.listNamespaceKeysOutput(
      {
        resourceGroupName,
        namespaceName: args.eventHubsNamespaceName,
        authorizationRuleName: rule.name,
      },
      parent,
    );
    const vaultSecret = (secretName: string, value: pulumi.Input<string>) =>
      new keyvault.Secret(
        `${name}-${secretName}`,
        {
          resourceGroupName,
          vaultName: args.vaultName,
          secretName,
          properties: { value: pulumi.secret(value) },
        },
        parent,
      );
    const target = vaultSecret(
      "replication-connection",
      keys.apply((k) => k.primaryConnectionString ?? ""),
    );
    const flows = replicationFlows(config.cloud, config.project, config.peers);
    for (const flow of flows) {
      new eventhub.EventHub(
        `${name}-${flow.targetTopic}`,
        {
          resourceGroupName,
          namespaceName: args.eventHubsNamespaceName,
          eventHubName: flow.targetTopic,
          partitionCount: replicaPartitions(
            config.project,
            flow.sourceTopic,
            config.kafka.partitions,
          ),
          retentionDescription: { cleanupPolicy: "Compact", tombstoneRetentionTimeInHours: 24 },
        },
        parent,
      );
    }
    for (const peer of config.peers) {
      this.mirrorMaker(`${name}-from-${peer.region}`, peer, args, target, vaultSecret);
    }
    this.flows = pulumi.output(flows);
    this.registerOutputs({ flows: this.flows });
  }

  private mirrorMaker(
    name: string,
    peer: PeerRegion,
    args: AzureReplicationArgs,
    target: keyvault.Secret,
    vaultSecret: (secretName: string, value: pulumi.Input<string>) => keyvault.Secret,
  ): void {
    const { config } = args;
    const reference = (secretName: string, s: keyvault.Secret) => ({
      name: secretName,
      keyVaultUrl: s.properties.apply((p) => p.secretUri),
      identity: args.identityId,
    });
    const secret = args.peerCredentials[peer.region]!;
    // An mTLS credential is JSON {"certificate","key"}: each half is its own vault secret.
    const halves =
      peer.auth === "mtls"
        ? (["certificate", "key"] as const).map((half) => ({
            variable: `PEER_CREDENTIAL_${half === "key" ? "KEY" : "CERT"}`,
            secret: vaultSecret(
              `peer-${peer.region}-${half}`,
              pulumi.output(secret).apply((json) => pemHalf(json, half, peer.region)),
            ),
          }))
        : [{ variable: "PEER_CREDENTIAL", secret: vaultSecret(`peer-${peer.region}`, secret) }];
    const source = peerEndpoint(peer);
    const properties = pulumi.output(args.kafkaBootstrap).apply((bootstrap) =>
      mirrorMakerProperties(config.project, source, {
        alias: config.region,
        bootstrap,
        auth: "event-hubs",
        secretEnv: "TARGET_CREDENTIAL",
      }),
    );
    new app.ContainerApp(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        managedEnvironmentId: args.environmentId,
        workloadProfileName: "Consumption",
        identity: { type: "UserAssigned", userAssignedIdentities: [args.identityId] },
        configuration: {
          activeRevisionsMode: "Single",
          secrets: [
            ...halves.map((h) => reference(h.variable.toLowerCase().replace(/_/g, "-"), h.secret)),
            reference("target-credential", target),
          ],
        },
        template: {
          containers: [
            {
              name: "mirrormaker2",
              image: config.mirrorMakerImage,
              command: MIRROR_MAKER_COMMAND,
              env: [
                { name: "MM2_PROPERTIES", value: properties },
                { name: "TARGET_CREDENTIAL", secretRef: "target-credential" },
                ...halves.map((h) => ({
                  name: h.variable,
                  secretRef: h.variable.toLowerCase().replace(/_/g, "-"),
                })),
                ...(peer.caCertificate ? [{ name: "PEER_CA", value: peer.caCertificate }] : []),
              ],
              resources: { cpu: 1, memory: "2.0Gi" },
            },
          ],
          // One dedicated MM2 per peer, always running: replication is not scaled to zero.
          scale: { minReplicas: 1, maxReplicas: 1 },
        },
      },
      { parent: this, dependsOn: args.grants },
    );
  }
}
