import monitor from "@pulumi/azure-native/monitor/index.js";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { StackConfig } from "../config.js";

export interface AzureMetricsIngestionArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  workspaceId: pulumi.Input<string>;
}

const STREAM = "Microsoft-PrometheusMetrics";

/**
 * Where Prometheus remote-write lands in the region's Azure Monitor workspace: a data
 * collection endpoint and a rule forwarding the Prometheus stream into the workspace.
 * (Azure Monitor's managed Prometheus scraping covers AKS and Arc clusters, not Container
 * Apps: the apps carry their own collector, collectorContainer.)
 */
export class AzureMetricsIngestion extends pulumi.ComponentResource {
  /** The rule: the scope of the collector identity's Monitoring Metrics Publisher role. */
  readonly ruleId: pulumi.Output<string>;
  /** `<endpoint>/dataCollectionRules/<immutable id>/streams/Microsoft-PrometheusMetrics/api/v1/write?...` */
  readonly remoteWriteUrl: pulumi.Output<string>;

  constructor(
    name: string,
    args: AzureMetricsIngestionArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("strata:azure:MetricsIngestion", name, {}, opts);
    const parent = { parent: this };
    const endpoint = new monitor.DataCollectionEndpoint(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        networkAcls: { publicNetworkAccess: "Enabled" },
      },
      parent,
    );
    const rule = new monitor.DataCollectionRule(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        dataCollectionEndpointId: endpoint.id,
        dataSources: { prometheusForwarder: [{ name: "strata", streams: [STREAM] }] },
        destinations: {
          monitoringAccounts: [{ name: "workspace", accountResourceId: args.workspaceId }],
        },
        dataFlows: [{ streams: [STREAM], destinations: ["workspace"] }],
      },
      parent,
    );
    this.ruleId = rule.id;
    this.remoteWriteUrl = pulumi.interpolate`${endpoint.metricsIngestion.apply((m) => m?.endpoint ?? "")}/dataCollectionRules/${rule.immutableId}/streams/${STREAM}/api/v1/write?api-version=2023-04-24`;
    this.registerOutputs({ remoteWriteUrl: this.remoteWriteUrl });
  }
}

/** Prometheus (agent mode) scraping one admin port on localhost, remote-writing with the identity. */
export function collectorConfig(
  config: StackConfig,
  role: "serve" | "ingest",
  adminPort: number,
  remoteWriteUrl: string,
  identityClientId: string,
): string {
  return stringify({
    global: {
      scrape_interval: "15s",
      external_labels: { strata_region: config.region, strata_project: config.project },
    },
    scrape_configs: [
      {
        job_name: `strata-${role}`,
        metrics_path: "/metrics",
        static_configs: [{ targets: [`127.0.0.1:${adminPort}`] }],
      },
    ],
    remote_write: [
      {
        url: remoteWriteUrl,
        azuread: { cloud: "AzurePublic", managed_identity: { client_id: identityClientId } },
      },
    ],
  });
}

/** The sidecar container of a serving or consumer app (same replica: localhost is the app). */
export function collectorContainer(
  config: StackConfig,
  role: "serve" | "ingest",
  adminPort: number,
  remoteWriteUrl: pulumi.Input<string>,
  identityClientId: pulumi.Input<string>,
) {
  return {
    name: "metrics-collector",
    image: config.collectorImage,
    command: [
      "sh",
      "-c",
      'printf "%s" "$PROMETHEUS_CONFIG" > /tmp/prometheus.yml && exec /bin/prometheus --agent --config.file=/tmp/prometheus.yml --storage.agent.path=/tmp/agent',
    ],
    env: [
      {
        name: "PROMETHEUS_CONFIG",
        value: pulumi
          .all([remoteWriteUrl, identityClientId])
          .apply(([url, clientId]) => collectorConfig(config, role, adminPort, url, clientId)),
      },
    ],
    resources: { cpu: 0.25, memory: "0.5Gi" },
  };
}
