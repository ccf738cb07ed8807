import { isMultiRegion, type StackLayout } from "./layout.js";
import { ConnectWorker } from "./services/connect.js";
import { KafkaBroker } from "./services/kafka.js";
import { MirrorMaker } from "./services/mirror-maker.js";
import { Postgres } from "./services/postgres.js";
import { Prometheus } from "./services/prometheus.js";
import { RedisCluster } from "./services/redis-cluster.js";
import { RedisStandalone } from "./services/redis-standalone.js";
import type { StackService } from "./services/service.js";
import { Toxiproxy } from "./services/toxiproxy.js";

/** One region's own servers. */
export interface RegionServices {
  region: string;
  redis: RedisStandalone;
  kafka: KafkaBroker;
}

/** Every service of a layout: per region, the shared cluster, and the replication services. */
export interface StackServices {
  regions: RegionServices[];
  /** The Redis Cluster belongs to region 0. */
  cluster: RedisCluster;
  /** Only with two or more regions. */
  toxiproxy?: Toxiproxy;
  mirrorMaker?: MirrorMaker;
  /** Region 0's Kafka Connect worker with the Iceberg sink (the offline store's writer). */
  connect: ConnectWorker;
  /** One for every region. */
  prometheus: Prometheus;
  /** The CDC sources' database (region 0's; Debezium on `connect` captures it). */
  postgres: Postgres;
}

export function stackServices(layout: StackLayout): StackServices {
  const multi = isMultiRegion(layout);
  return {
    regions: layout.regions.map((region) => ({
      region: region.name,
      redis: new RedisStandalone(region),
      kafka: new KafkaBroker(region, multi),
    })),
    cluster: new RedisCluster(layout.clusterPorts),
    toxiproxy: multi ? new Toxiproxy(layout) : undefined,
    mirrorMaker: multi ? new MirrorMaker(layout) : undefined,
    connect: new ConnectWorker(layout.regions[0]!),
    prometheus: new Prometheus(layout),
    postgres: new Postgres(),
  };
}

/** The services in start order: each phase's services start in parallel, phases in order. */
export function startPhases(services: StackServices): StackService[][] {
  const servers: StackService[] = [];
  services.regions.forEach((region, i) => {
    servers.push(region.redis);
    if (i === 0) servers.push(services.cluster);
    servers.push(region.kafka);
  });
  if (services.toxiproxy) servers.push(services.toxiproxy);
  servers.push(services.prometheus);
  servers.push(services.postgres);
  // Both need the brokers up, and neither needs the other: they start side by side.
  const linked: StackService[] = [services.connect];
  if (services.mirrorMaker) linked.unshift(services.mirrorMaker);
  return [servers, linked];
}
