import { changelogTopic, replicatedTopic } from "../shared/changelog/topics.js";
import { registryTopic } from "../shared/registry-log/registry-topics.js";
import type { Cloud } from "./config.js";
import { usesMskReplicator, type PeerRegion } from "./peers.js";

/**
 * What crosses regions, and under which names. MirrorMaker 2's default replication policy puts
 * region A's `strata.<project>.changelog` in region B as `A.strata.<project>.changelog`: a
 * replicated record never matches the source pattern again, so it can never loop. The published
 * registry (`strata.<project>.registry`) crosses the same way, so one `strata apply` reaches
 * every region (docs/registry.md); the dead-letter topic never crosses (a poison record is its
 * own region's business).
 */
export function replicatedTopics(project: string): string[] {
  return [changelogTopic(project), registryTopic(project)];
}

/** Partitions of a topic's copy: the source's count (records keep their partition number). */
export function replicaPartitions(
  project: string,
  topic: string,
  changelogPartitions: number,
): number {
  return topic === registryTopic(project) ? 1 : changelogPartitions;
}

/** One inbound flow: a peer's topic and its name here. */
export interface ReplicationFlow {
  from: string;
  via: "msk-replicator" | "mirrormaker2";
  sourceTopic: string;
  /**
   * The topic in this region. MM2: `<peer>.<topic>`. MSK Replicator prefixes an alias it
   * generates at creation (`<alias>.<topic>`), known only once the replicator exists.
   */
  targetTopic: string;
}

/** The flows of every peer, with MM2's names; the MSK Replicator's are resolved by the AWS component. */
export function replicationFlows(
  cloud: Cloud,
  project: string,
  peers: PeerRegion[],
): ReplicationFlow[] {
  return peers.flatMap((peer) =>
    replicatedTopics(project).map((topic) => ({
      from: peer.region,
      via: usesMskReplicator(cloud, peer) ? ("msk-replicator" as const) : ("mirrormaker2" as const),
      sourceTopic: topic,
      targetTopic: replicatedTopic(peer.region, topic),
    })),
  );
}

/** Regular expression of the topics MM2 or MSK Replicator copies (exact names, dots escaped). */
export function topicPattern(project: string): string {
  return replicatedTopics(project)
    .map((t) => t.replace(/\./g, "\\."))
    .join("|");
}

/** How MM2 reaches one cluster: TLS always, and the peer's login (secrets by placeholder). */
export interface Mm2Endpoint {
  alias: string;
  bootstrap: string;
  auth: "scram-sha-512" | "event-hubs" | "mtls" | "msk-iam";
  username?: string;
  /** Where the container finds the secret half: an environment variable MM2 reads at start. */
  secretEnv?: string;
  /** An environment variable holding the PEM of the CA to trust (a private CA's peers). */
  caEnv?: string;
}

/**
 * A peer as the source of this region's MirrorMaker 2: its secret in PEER_CREDENTIAL (or
 * PEER_CREDENTIAL_CERT / _KEY for mTLS) and its private CA, if any, in PEER_CA, as every
 * cloud's container sets them.
 */
export function peerEndpoint(peer: PeerRegion): Mm2Endpoint {
  return {
    alias: peer.region,
    bootstrap: peer.bootstrap,
    auth: peer.auth,
    username: peer.username,
    secretEnv: "PEER_CREDENTIAL",
    caEnv: peer.caCertificate ? "PEER_CA" : undefined,
  };
}

function clientProperties(e: Mm2Endpoint): string[] {
  const p = (key: string, value: string) => `${e.alias}.${key}=${value}`;
  const lines = [p("bootstrap.servers", e.bootstrap)];
  const jaas = (module: string, options: string) =>
    p("sasl.jaas.config", `${module} required ${options};`);
  switch (e.auth) {
    case "msk-iam":
      lines.push(
        p("security.protocol", "SASL_SSL"),
        p("sasl.mechanism", "AWS_MSK_IAM"),
        jaas("software.amazon.msk.auth.iam.IAMLoginModule", ""),
        p(
          "sasl.client.callback.handler.class",
          "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
        ),
      );
      break;
    case "scram-sha-512":
      lines.push(
        p("security.protocol", "SASL_SSL"),
        p("sasl.mechanism", "SCRAM-SHA-512"),
        jaas(
          "org.apache.kafka.common.security.scram.ScramLoginModule",
          `username="${e.username}" password="\${env:${e.secretEnv}}"`,
        ),
      );
      break;
    case "event-hubs":
      lines.push(
        p("security.protocol", "SASL_SSL"),
        p("sasl.mechanism", "PLAIN"),
        jaas(
          "org.apache.kafka.common.security.plain.PlainLoginModule",
          `username="$ConnectionString" password="\${env:${e.secretEnv}}"`,
        ),
      );
      break;
    case "mtls":
      lines.push(
        p("security.protocol", "SSL"),
        p("ssl.keystore.type", "PEM"),
        p("ssl.keystore.certificate.chain", `\${env:${e.secretEnv}_CERT}`),
        p("ssl.keystore.key", `\${env:${e.secretEnv}_KEY}`),
      );
      break;
  }
  if (e.caEnv) {
    lines.push(
      p("ssl.truststore.type", "PEM"),
      p("ssl.truststore.certificates", `\${env:${e.caEnv}}`),
    );
  }
  lines.push(p("ssl.endpoint.identification.algorithm", "https"));
  return lines;
}

/**
 * mm2.properties of a dedicated MirrorMaker 2 that copies one peer's topics into this region:
 * one direction only (this stack owns its inbound flows; the peer's stack owns the reverse),
 * the default replication policy, topic configs synced, ACLs not (each region keeps its own).
 * `${env:...}` is resolved by Kafka's EnvVarConfigProvider from the container's secrets.
 */
export function mirrorMakerProperties(
  project: string,
  source: Mm2Endpoint,
  target: Mm2Endpoint,
): string {
  return [
    `clusters=${source.alias},${target.alias}`,
    "config.providers=env",
    "config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider",
    ...clientProperties(source),
    ...clientProperties(target),
    `${source.alias}->${target.alias}.enabled=true`,
    // java.util.Properties reads `\.` as `.`: the regex's backslashes are doubled to survive.
    `${source.alias}->${target.alias}.topics=${topicPattern(project).replace(/\\/g, "\\\\")}`,
    `${target.alias}->${source.alias}.enabled=false`,
    "replication.policy.class=org.apache.kafka.connect.mirror.DefaultReplicationPolicy",
    "sync.topic.configs.enabled=true",
    "sync.topic.acls.enabled=false",
    // Nothing is written to the peer: its offsets stay here, no heartbeats or checkpoints go back.
    "offset-syncs.topic.location=target",
    "emit.heartbeats.enabled=false",
    "emit.checkpoints.enabled=false",
    "refresh.topics.interval.seconds=60",
    // Exactly-once source tasks need transactions on the target, which Event Hubs lacks.
    "exactly.once.source.support=disabled",
    // The one worker's Connect group lives on the target. A worker that rejoins as a new member
    // (after a partition longer than its session, or a task restart) gets the flow back at once
    // instead of after Connect's default five-minute wait for the departed one. MM2 reads
    // worker settings only with the target cluster's prefix; at top level it ignores them.
    `${target.alias}.scheduled.rebalance.max.delay.ms=0`,
  ].join("\n");
}

/** The image that runs MirrorMaker 2 (connect-mirror-maker.sh) where no managed replicator fits. */
export const MIRROR_MAKER_IMAGE = "apache/kafka:3.9.1";
export const MIRROR_MAKER_COMMAND = [
  "sh",
  "-c",
  'printf "%s" "$MM2_PROPERTIES" > /tmp/mm2.properties && exec /opt/kafka/bin/connect-mirror-maker.sh /tmp/mm2.properties',
];
