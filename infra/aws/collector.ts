import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { StackConfig } from "../config.js";

/**
 * The metrics collector on AWS: an AWS Distro for OpenTelemetry (ADOT) container beside each
 * serving and consumer container in the same task, scraping the admin port on localhost every
 * 15 s and remote-writing to the region's Amazon Managed Prometheus workspace with SigV4
 * (signed with the task role, whose only added right is `aps:RemoteWrite` on that workspace).
 * A sidecar needs no discovery (no ECS or Cloud Map rights) and scales with the tasks.
 */
export function collectorConfig(
  config: StackConfig,
  role: "serve" | "ingest",
  adminPort: number,
  remoteWriteUrl: string,
): string {
  return stringify({
    extensions: { sigv4auth: { region: config.region, service: "aps" } },
    receivers: {
      prometheus: {
        config: {
          scrape_configs: [
            {
              job_name: `strata-${role}`,
              scrape_interval: "15s",
              metrics_path: "/metrics",
              static_configs: [
                {
                  targets: [`127.0.0.1:${adminPort}`],
                  labels: { strata_region: config.region, strata_project: config.project },
                },
              ],
            },
          ],
        },
      },
    },
    exporters: {
      prometheusremotewrite: {
        endpoint: remoteWriteUrl,
        auth: { authenticator: "sigv4auth" },
        resource_to_telemetry_conversion: { enabled: true },
      },
    },
    service: {
      extensions: ["sigv4auth"],
      pipelines: { metrics: { receivers: ["prometheus"], exporters: ["prometheusremotewrite"] } },
    },
  });
}

/** The remote-write URL of a workspace, from its Prometheus endpoint (ending in `/`). */
export function remoteWriteUrl(prometheusEndpoint: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi
    .output(prometheusEndpoint)
    .apply((e) => `${e.replace(/\/?$/, "/")}api/v1/remote_write`);
}

/** The sidecar's container definition (ADOT reads its configuration from AOT_CONFIG_CONTENT). */
export function collectorContainer(
  config: StackConfig,
  role: "serve" | "ingest",
  adminPort: number,
  writeUrl: pulumi.Input<string>,
  logGroup: pulumi.Input<string>,
) {
  return {
    name: "metrics-collector",
    image: config.collectorImage,
    // A collector that stops must not stop the serving container with it.
    essential: false,
    user: "1000",
    readonlyRootFilesystem: true,
    environment: [
      {
        name: "AOT_CONFIG_CONTENT",
        value: pulumi
          .output(writeUrl)
          .apply((url) => collectorConfig(config, role, adminPort, url)),
      },
    ],
    logConfiguration: {
      logDriver: "awslogs",
      options: {
        "awslogs-group": logGroup,
        "awslogs-region": config.region,
        "awslogs-stream-prefix": `${role}-collector`,
      },
    },
  };
}
