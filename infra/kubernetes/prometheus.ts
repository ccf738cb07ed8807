import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { StackConfig } from "../config.js";
import { PROMETHEUS_LABELS, PROMETHEUS_PORT } from "./labels.js";
import { CONTAINER_SECURITY, podSecurity } from "./security.js";

export interface KubernetesPrometheusArgs {
  config: StackConfig;
  namespace: pulumi.Input<string>;
}

/** Prometheus' scrape configuration: the namespace's pods annotated `prometheus.io/scrape`. */
export function scrapeConfig(namespace: string, region: string): string {
  return stringify({
    global: { scrape_interval: "15s", external_labels: { strata_region: region } },
    scrape_configs: [
      {
        job_name: "strata-pods",
        kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [namespace] } }],
        relabel_configs: [
          {
            source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
            action: "keep",
            regex: "true",
          },
          {
            source_labels: ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
            action: "replace",
            regex: "([^:]+)(?::\\d+)?;(\\d+)",
            replacement: "$1:$2",
            target_label: "__address__",
          },
          {
            source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_path"],
            action: "replace",
            regex: "(.+)",
            target_label: "__metrics_path__",
          },
          { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
          {
            source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
            target_label: "app",
          },
        ],
      },
    ],
  });
}

/**
 * The region's metrics collector where no Prometheus operator runs: one Prometheus (server
 * mode: the drift function queries it) scraping the serving and consumer pods of the namespace
 * through their `prometheus.io/*` annotations, 15 days on a persistent volume. Its service
 * account may only list and watch pods in this namespace.
 */
export class KubernetesPrometheus extends pulumi.ComponentResource {
  /** http://<service>.<namespace>.svc:9090: the Prometheus HTTP API. */
  readonly url: pulumi.Output<string>;

  constructor(
    name: string,
    args: KubernetesPrometheusArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("strata:kubernetes:Prometheus", name, {}, opts);
    const parent = { parent: this };
    const { config, namespace } = args;
    const account = new k8s.core.v1.ServiceAccount(name, { metadata: { namespace } }, parent);
    const role = new k8s.rbac.v1.Role(
      name,
      {
        metadata: { namespace },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
      },
      parent,
    );
    new k8s.rbac.v1.RoleBinding(
      name,
      {
        metadata: { namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace }],
      },
      parent,
    );
    const settings = new k8s.core.v1.ConfigMap(
      name,
      {
        metadata: { namespace },
        data: {
          "prometheus.yml": pulumi.output(namespace).apply((ns) => scrapeConfig(ns, config.region)),
        },
      },
      parent,
    );
    const volume = new k8s.core.v1.PersistentVolumeClaim(
      name,
      {
        metadata: { namespace },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: "20Gi" } },
          ...(config.kubernetes!.storageClass
            ? { storageClassName: config.kubernetes!.storageClass }
            : {}),
        },
      },
      parent,
    );
    new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { namespace, labels: PROMETHEUS_LABELS },
        spec: {
          replicas: 1,
          // One writer of the volume at a time.
          strategy: { type: "Recreate" },
          selector: { matchLabels: PROMETHEUS_LABELS },
          template: {
            metadata: { labels: PROMETHEUS_LABELS },
            spec: {
              serviceAccountName: account.metadata.name,
              securityContext: podSecurity(65534),
              containers: [
                {
                  name: "prometheus",
                  image: config.collectorImage,
                  args: [
                    "--config.file=/etc/prometheus/prometheus.yml",
                    "--storage.tsdb.path=/prometheus",
                    "--storage.tsdb.retention.time=15d",
                    `--web.listen-address=:${PROMETHEUS_PORT}`,
                  ],
                  ports: [{ name: "http", containerPort: PROMETHEUS_PORT }],
                  readinessProbe: { httpGet: { path: "/-/ready", port: "http" } },
                  livenessProbe: { httpGet: { path: "/-/healthy", port: "http" } },
                  resources: {
                    requests: { cpu: "250m", memory: "1Gi" },
                    limits: { memory: "2Gi" },
                  },
                  securityContext: CONTAINER_SECURITY,
                  volumeMounts: [
                    { name: "config", mountPath: "/etc/prometheus", readOnly: true },
                    { name: "data", mountPath: "/prometheus" },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: settings.metadata.name } },
                { name: "data", persistentVolumeClaim: { claimName: volume.metadata.name } },
              ],
            },
          },
        },
      },
      parent,
    );
    const service = new k8s.core.v1.Service(
      name,
      {
        metadata: { namespace, labels: PROMETHEUS_LABELS },
        spec: {
          type: "ClusterIP",
          selector: PROMETHEUS_LABELS,
          ports: [{ name: "http", port: PROMETHEUS_PORT, targetPort: "http" }],
        },
      },
      parent,
    );
    this.url = pulumi.interpolate`http://${service.metadata.name}.${namespace}.svc:${PROMETHEUS_PORT}`;
    this.registerOutputs({ url: this.url });
  }
}
