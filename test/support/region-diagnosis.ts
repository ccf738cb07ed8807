// What a region test prints when regions fail to converge: for every region, how far its
// changelog and each peer's copy reach (end offsets, so whether MirrorMaker 2 carried the
// records) and how far the region's consumer group has committed in each (so whether the
// consumer applied them). Tells a replication stall from a consumer stall at a glance.
import { Kafka, logLevel, type Admin } from "kafkajs";
import type { StackRegion } from "../../dev/stack/regions.js";
import {
  changelogTopic,
  consumerGroupId,
  replicatedChangelogTopic,
} from "../../shared/changelog/index.js";

/** One line per region: `b: own 67/67, a-copy 0/0 (missing), c-copy 67/60` (end/committed). */
export async function replicationDiagnosis(
  stack: readonly StackRegion[],
  project: string,
): Promise<string[]> {
  return Promise.all(
    stack.map(async (region) => {
      const admin = new Kafka({
        clientId: "strata-test-diagnosis",
        brokers: region.kafkaBrokers,
        logLevel: logLevel.NOTHING,
        retry: { retries: 1 },
      }).admin();
      try {
        await admin.connect();
        const existing = new Set(await admin.listTopics());
        const topics = [
          { label: "own", topic: changelogTopic(project) },
          ...stack
            .filter((peer) => peer.name !== region.name)
            .map((peer) => ({
              label: `${peer.name}-copy`,
              topic: replicatedChangelogTopic(project, peer.name),
            })),
        ];
        const committed = await committedByTopic(admin, consumerGroupId(project, region.name));
        const parts = await Promise.all(
          topics.map(async ({ label, topic }) => {
            if (!existing.has(topic)) return `${label} missing`;
            const ends = await admin.fetchTopicOffsets(topic);
            const end = ends.reduce((sum, p) => sum + Number(p.high), 0);
            return `${label} ${end}/${committed.get(topic) ?? 0}`;
          }),
        );
        return `${region.name}: ${parts.join(", ")} (end offset/committed by its consumer)`;
      } catch (error) {
        return `${region.name}: could not be read: ${(error as Error).message}`;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }),
  );
}

async function committedByTopic(admin: Admin, groupId: string): Promise<Map<string, number>> {
  const offsets = await admin.fetchOffsets({ groupId });
  return new Map(
    offsets.map(({ topic, partitions }) => [
      topic,
      partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0),
    ]),
  );
}
