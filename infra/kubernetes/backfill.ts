import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { consumerGroupId } from "../../shared/changelog/changelog-consumer.js";
import { changelogTopic } from "../../shared/changelog/topics.js";
import {
  registryReaderGroupPrefix,
  registryTopic,
  replicatedRegistryTopic,
} from "../../shared/registry-log/registry-topics.js";
import type { StackConfig } from "../config.js";
import { backfillGroupPrefix, backfillTopic } from "../offline/names.js";
import { BACKFILL_JOB_COMMAND, backfillEnvironment } from "../workload-env.js";
import { acl, kafkaUser } from "./kafka-user.js";
import { CLIENT_LABEL } from "./security.js";
import type { KubernetesServing } from "./serving.js";

export interface KubernetesBackfillArgs {
  config: StackConfig;
  namespace: pulumi.Input<string>;
  kafkaClusterName: string;
  jobPodSpec: KubernetesServing["jobPodSpec"];
  /** The warehouse as the Hadoop catalog names it (`s3a://<bucket>/warehouse`). */
  warehouse: string;
}

export const BACKFILL_LABELS = {
  "app.kubernetes.io/name": "strata-backfill",
  "app.kubernetes.io/part-of": "strata",
};

/** The key of the ConfigMap that holds the Job manifest. */
export const BACKFILL_JOB_KEY = "job.json";

/**
 * The backfill coordinator as a Kubernetes Job template: a ConfigMap holding a complete Job
 * manifest (JSON) of the image running `node dist/functions/backfill/job.js`. A ConfigMap,
 * not a suspended CronJob: every run takes its own arguments (the action, the view, the
 * source), which `kubectl create job --from=cronjob/...` cannot set; the operator appends them
 * to the container's `args` and creates the Job (docs/deploy.md). Its KafkaUser may write and
 * read the backfill topic, read the changelog and the registry, in the backfill's groups; its
 * S3 credential (`offline.objectStore.readCredentialsSecret`) only reads the warehouse.
 */
export class KubernetesBackfill extends pulumi.ComponentResource {
  /** `configmap/<namespace>/<name>`: where the Job manifest is. */
  readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: KubernetesBackfillArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:kubernetes:Backfill", name, {}, opts);
    const parent = { parent: this };
    const { config, namespace } = args;
    const store = config.offline.objectStore!;
    const userName = `${args.kafkaClusterName}-backfill`;
    const topic = (topicName: string, operations: string[]) =>
      acl({ type: "topic", name: topicName, patternType: "literal" }, operations);
    kafkaUser(
      `${name}-user`,
      {
        userName,
        namespace,
        kafkaClusterName: args.kafkaClusterName,
        acls: [
          topic(backfillTopic(config.project), [
            "Describe",
            "DescribeConfigs",
            "Create",
            "Read",
            "Write",
          ]),
          topic(changelogTopic(config.project), ["Describe", "Read"]),
          topic(registryTopic(config.project), ["Describe", "Read"]),
          ...config.peers.map((p) =>
            topic(replicatedRegistryTopic(config.project, p.region), ["Describe", "Read"]),
          ),
          acl({ type: "group", name: backfillGroupPrefix(config.project), patternType: "prefix" }, [
            "Describe",
            "Read",
            "Delete",
          ]),
          acl(
            {
              type: "group",
              name: registryReaderGroupPrefix(config.project),
              patternType: "prefix",
            },
            ["Describe", "Read", "Delete"],
          ),
          // The consumer group's committed offsets (a generation's cleanup waits for them).
          acl(
            {
              type: "group",
              name: consumerGroupId(config.project, config.region),
              patternType: "literal",
            },
            ["Describe"],
          ),
          acl({ type: "cluster" }, ["Describe", "IdempotentWrite"]),
        ],
      },
      parent,
    );
    const pod = args.jobPodSpec(BACKFILL_JOB_COMMAND, userName, (env) => [
      ...backfillEnvironment(config, env, args.warehouse),
      { name: "STRATA_OFFLINE_S3_ENDPOINT", value: store.endpoint },
      { name: "AWS_REGION", value: store.region },
    ]);
    const readCredential = (envName: string, key: string) => ({
      name: envName,
      valueFrom: { secretKeyRef: { name: store.readCredentialsSecret, key } },
    });
    const container = (pod.containers as k8s.types.input.core.v1.Container[])[0]!;
    const manifest = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { generateName: "strata-backfill-", namespace, labels: BACKFILL_LABELS },
      spec: {
        backoffLimit: 0,
        // A finished run's pod and logs stay a day for inspection.
        ttlSecondsAfterFinished: 86_400,
        template: {
          metadata: { labels: { ...BACKFILL_LABELS, ...CLIENT_LABEL } },
          spec: {
            ...pod,
            containers: [
              {
                ...container,
                name: "backfill",
                args: [],
                env: [
                  // The serving tier's API keys are no business of a backfill.
                  ...(container.env as { name: string }[]).filter(
                    (v) => v.name !== "STRATA_API_KEYS",
                  ),
                  readCredential("AWS_ACCESS_KEY_ID", "accessKeyId"),
                  readCredential("AWS_SECRET_ACCESS_KEY", "secretAccessKey"),
                ],
              },
            ],
          },
        },
      },
    };
    const configMap = new k8s.core.v1.ConfigMap(
      name,
      {
        metadata: { namespace, labels: BACKFILL_LABELS },
        data: { [BACKFILL_JOB_KEY]: pulumi.jsonStringify(manifest) },
      },
      parent,
    );
    this.endpoint = pulumi.interpolate`configmap/${namespace}/${configMap.metadata.name}`;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
