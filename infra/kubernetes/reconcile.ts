import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { registryReaderGroupPrefix } from "../../shared/registry-log/registry-topics.js";
import type { StackConfig } from "../config.js";
import { RECONCILE_COMMAND, reconcileEnvironment } from "../region-stack.js";
import { CLIENT_LABEL } from "./security.js";
import type { KubernetesServing } from "./serving.js";

export interface KubernetesReconcileArgs {
  config: StackConfig;
  namespace: pulumi.Input<string>;
  kafkaClusterName: string;
  /** KubernetesServing.jobPodSpec: the image's pod, non-root, with the region's certificates. */
  jobPodSpec: KubernetesServing["jobPodSpec"];
}

/**
 * The anti-entropy job on a schedule: a CronJob (UTC) running
 * `node dist/functions/reconcile/main.js`, never two at once, with its own KafkaUser: read the
 * project's topics (its own and the replicated ones), write its own changelog to repair.
 */
export class KubernetesReconcile extends pulumi.ComponentResource {
  constructor(name: string, args: KubernetesReconcileArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:kubernetes:Reconcile", name, {}, opts);
    const parent = { parent: this };
    const { config, namespace } = args;
    const project = `strata.${config.project}.`;
    const acl = (resource: object, operations: string[]) => ({ resource, operations, host: "*" });
    const userName = `${args.kafkaClusterName}-reconcile`;
    new k8s.apiextensions.CustomResource(
      `${name}-user`,
      {
        apiVersion: "kafka.strimzi.io/v1beta2",
        kind: "KafkaUser",
        metadata: {
          name: userName,
          namespace,
          labels: { "strimzi.io/cluster": args.kafkaClusterName },
        },
        spec: {
          authentication: { type: "tls" },
          authorization: {
            type: "simple",
            acls: [
              acl({ type: "topic", name: project, patternType: "prefix" }, [
                "Describe",
                "DescribeConfigs",
                "Read",
                "Write",
              ]),
              ...config.peers.map((p) =>
                acl({ type: "topic", name: `${p.region}.${project}`, patternType: "prefix" }, [
                  "Describe",
                  "Read",
                ]),
              ),
              acl({ type: "group", name: project, patternType: "prefix" }, ["Read", "Describe"]),
              // The group of its registry reader, deleted when the read is done.
              acl(
                {
                  type: "group",
                  name: registryReaderGroupPrefix(config.project),
                  patternType: "prefix",
                },
                ["Delete"],
              ),
              acl({ type: "cluster" }, ["Describe", "IdempotentWrite"]),
            ],
          },
        },
      },
      parent,
    );
    const labels = {
      "app.kubernetes.io/name": "strata-reconcile",
      "app.kubernetes.io/part-of": "strata",
    };
    new k8s.batch.v1.CronJob(
      name,
      {
        metadata: { namespace, labels },
        spec: {
          schedule: config.reconcileSchedule,
          timeZone: "Etc/UTC",
          concurrencyPolicy: "Forbid",
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              template: {
                metadata: { labels: { ...labels, ...CLIENT_LABEL } },
                spec: args.jobPodSpec(RECONCILE_COMMAND, userName, (env) => [
                  ...reconcileEnvironment(config, env),
                ]),
              },
            },
          },
        },
      },
      parent,
    );
    this.registerOutputs({});
  }
}
