import { randomBytes } from "node:crypto";

export interface KafkaNodeConfig {
  logDir: string;
  host: string;
  brokerPort: number;
  controllerPort: number;
  /**
   * A multi-region stack's PEER listener: the broker listens on `port` and advertises
   * `advertisedPort`, a toxiproxy in front of it, so that everything MirrorMaker 2 sends to
   * or reads from this broker crosses the proxy and a fault test can cut it there.
   */
  peer?: { port: number; advertisedPort: number };
}

/**
 * server.properties for one node in KRaft combined mode (broker + controller). Single-node
 * values for the internal topics' replication, and no initial rebalance delay so that test
 * consumer groups start at once.
 */
export function renderKafkaProperties(config: KafkaNodeConfig): string {
  const { host, brokerPort, controllerPort, logDir, peer } = config;
  const peerListener = peer ? `,PEER://${host}:${peer.port}` : "";
  const peerAdvertised = peer ? `,PEER://${host}:${peer.advertisedPort}` : "";
  const properties: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.voters": `1@${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${brokerPort},CONTROLLER://${host}:${controllerPort}${peerListener}`,
    "advertised.listeners": `PLAINTEXT://${host}:${brokerPort}${peerAdvertised}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": `CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${peer ? ",PEER:PLAINTEXT" : ""}`,
    "log.dirs": logDir,
    "num.partitions": 1,
    "offsets.topic.replication.factor": 1,
    "offsets.topic.num.partitions": 10,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    "group.initial.rebalance.delay.ms": 0,
    "auto.create.topics.enable": false,
  };
  return Object.entries(properties)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n")
    .concat("\n");
}

/**
 * A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, as Kafka's Uuid
 * expects. Like Kafka's own Uuid.randomUuid, never one that starts with "-": command-line
 * tools would read it as an option.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}
