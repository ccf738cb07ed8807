import kafkajs, { type Admin } from "kafkajs";
import { changelogTopic, changelogTopicSettings, replicatedChangelogTopic } from "./topics.js";
import { DEFAULT_TOPIC_CONFIG } from "./topics.js";
import { topicReplicationFactor } from "./topic-replication.js";

/** The local changelog's settings a replicated copy takes over (those changelogTopicSettings sets). */
const COPIED_SETTINGS = Object.keys(changelogTopicSettings(DEFAULT_TOPIC_CONFIG));

/**
 * Creates, where missing, the topics into which replication carries each peer's changelog
 * (`replicatedChangelogTopic`), so that a consumer subscribed to them starts before the
 * replicator first copies anything (MirrorMaker 2 creates a copy only once it sees the source,
 * and the brokers do not create topics on a consumer's request). Each is created like the
 * local changelog, read from the brokers: its partition count, replication factor and
 * compaction settings (compacted, CreateTime timestamps, which MM2 preserves). The partition
 * count matters: MM2 writes each record to the copy's partition of the same number as at the
 * source, so every region's changelog must have the same count (STRATA_CHANGELOG_PARTITIONS);
 * MM2 adds partitions to a copy with fewer, and a copy with more has empty ones.
 * Requires the local changelog to exist (ensureChangelogTopics). Returns the topics created.
 */
export async function ensureReplicatedChangelogTopics(
  admin: Admin,
  project: string,
  sourceRegions: readonly string[],
): Promise<string[]> {
  if (sourceRegions.length === 0) return [];
  const existing = new Set(await admin.listTopics());
  const missing = sourceRegions
    .map((region) => replicatedChangelogTopic(project, region))
    .filter((topic) => !existing.has(topic));
  if (missing.length === 0) return [];
  const local = changelogTopic(project);
  const [metadata, replicationFactor, described] = await Promise.all([
    admin.fetchTopicMetadata({ topics: [local] }),
    topicReplicationFactor(admin, local),
    admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: kafkajs.ConfigResourceTypes.TOPIC, name: local, configNames: COPIED_SETTINGS },
      ],
    }),
  ]);
  const configEntries = (described.resources[0]?.configEntries ?? [])
    .filter((e) => COPIED_SETTINGS.includes(e.configName))
    .map((e) => ({ name: e.configName, value: e.configValue }));
  await admin
    .createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: metadata.topics[0]!.partitions.length,
        replicationFactor,
        configEntries,
      })),
    })
    .catch((error: unknown) => {
      // The replicator (or another consumer) created it meanwhile: what was wanted.
      if ((error as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") throw error;
    });
  return missing;
}
