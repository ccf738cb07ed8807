import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { DRIFT_JOB_COMMAND, driftEnvironment } from "../workload-env.js";
import { DNS_EGRESS, egressTo, redisHostPorts, urlHostPort } from "./egress.js";
import { DRIFT_LABELS, PROMETHEUS_LABELS, PROMETHEUS_PORT } from "./labels.js";
import { REDIS_LABELS } from "./redis-cluster.js";
import { CONTAINER_SECURITY, podSecurity } from "./security.js";

export interface KubernetesDriftArgs {
  config: StackConfig;
  namespace: pulumi.Input<string>;
  /** The Prometheus the function queries; `own` when it is the region's (KubernetesPrometheus). */
  prometheusUrl: pulumi.Input<string>;
  ownPrometheus: boolean;
  argoToken: pulumi.Input<string>;
  /** This region's Redis (the default claim place): seeds, password Secret, TLS Secret. */
  redisEndpoint: pulumi.Input<string>;
  redisPasswordSecret: pulumi.Input<string>;
  redisTlsSecret: string;
}

/**
 * The drift evaluation as a CronJob (`strata:drift.schedule`, UTC, never two at once) running
 * `node dist/functions/drift/job.js` under its own service account (no API token mounted: it
 * calls no Kubernetes API), the Argo token from a Secret. A NetworkPolicy lets its pods reach
 * only Prometheus, Argo, the claim Redis and DNS.
 */
export class KubernetesDrift extends pulumi.ComponentResource {
  constructor(name: string, args: KubernetesDriftArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:kubernetes:Drift", name, {}, opts);
    const parent = { parent: this };
    const { config, namespace } = args;
    const token = new k8s.core.v1.Secret(
      `${name}-argo-token`,
      { metadata: { namespace }, stringData: { token: pulumi.secret(args.argoToken) } },
      parent,
    );
    const account = new k8s.core.v1.ServiceAccount(
      name,
      { metadata: { namespace }, automountServiceAccountToken: false },
      parent,
    );
    const env = [
      ...driftEnvironment(config, {
        prometheusUrl: args.prometheusUrl,
        env: [{ name: "REDIS_CLUSTER_NODES", value: args.redisEndpoint }],
      }),
      {
        name: "STRATA_ARGO_TOKEN",
        valueFrom: { secretKeyRef: { name: token.metadata.name, key: "token" } },
      },
      {
        name: "REDIS_PASSWORD",
        valueFrom: { secretKeyRef: { name: args.redisPasswordSecret, key: "password" } },
      },
      { name: "REDIS_TLS_CA_FILE", value: "/etc/strata/redis/ca.crt" },
    ];
    new k8s.batch.v1.CronJob(
      name,
      {
        metadata: { namespace, labels: DRIFT_LABELS },
        spec: {
          schedule: config.drift.schedule,
          timeZone: "Etc/UTC",
          concurrencyPolicy: "Forbid",
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              template: {
                metadata: { labels: DRIFT_LABELS },
                spec: {
                  serviceAccountName: account.metadata.name,
                  automountServiceAccountToken: false,
                  restartPolicy: "Never",
                  securityContext: podSecurity(1000),
                  containers: [
                    {
                      name: "drift",
                      image: config.serving.image,
                      command: DRIFT_JOB_COMMAND,
                      env,
                      resources: {
                        requests: { cpu: "250m", memory: "512Mi" },
                        limits: { memory: "1Gi" },
                      },
                      securityContext: CONTAINER_SECURITY,
                      volumeMounts: [
                        { name: "tmp", mountPath: "/tmp" },
                        { name: "redis-tls", mountPath: "/etc/strata/redis", readOnly: true },
                      ],
                    },
                  ],
                  volumes: [
                    { name: "tmp", emptyDir: {} },
                    {
                      name: "redis-tls",
                      secret: {
                        secretName: args.redisTlsSecret,
                        items: [{ key: "ca.crt", path: "ca.crt" }],
                      },
                    },
                  ],
                },
              },
            },
          },
        },
      },
      parent,
    );
    const argo = urlHostPort(config.drift.argoUrl);
    const prometheus = args.ownPrometheus
      ? pulumi.output({
          to: [{ podSelector: { matchLabels: PROMETHEUS_LABELS } }],
          ports: [{ protocol: "TCP", port: PROMETHEUS_PORT }],
        })
      : pulumi.output(args.prometheusUrl).apply((url) => {
          const { host, port } = urlHostPort(url);
          return egressTo(host, port);
        });
    const claim = config.drift.claimRedis
      ? redisHostPorts(config.drift.claimRedis).map(({ host, port }) => egressTo(host, port))
      : [
          {
            to: [{ podSelector: { matchLabels: REDIS_LABELS } }],
            ports: [{ protocol: "TCP", port: 6379 }],
          },
        ];
    new k8s.networking.v1.NetworkPolicy(
      `${name}-egress`,
      {
        metadata: { namespace },
        spec: {
          podSelector: { matchLabels: DRIFT_LABELS },
          policyTypes: ["Egress"],
          egress: [prometheus, egressTo(argo.host, argo.port), ...claim, DNS_EGRESS],
        },
      },
      parent,
    );
    this.registerOutputs({});
  }
}
