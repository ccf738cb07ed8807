import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { FEATURE_PATHS, SERVE_PORT } from "../region-stack.js";
import { CONTAINER_SECURITY, podSecurity } from "./security.js";

export interface EnvoyFrontArgs {
  config: StackConfig;
  namespace: pulumi.Input<string>;
  /** The serving tier's ClusterIP Service host. */
  upstreamHost: pulumi.Input<string>;
}

export const ENVOY_LABELS = {
  "app.kubernetes.io/name": "strata-envoy",
  "app.kubernetes.io/part-of": "strata",
};
const ENVOY_UID = 101;

/**
 * Envoy's configuration: TLS on 8443 with the configured certificate, HTTP/1.1 keep-alive to the
 * serving tier's feature port, for the feature API's paths only (anything else is 404 here).
 */
export function envoyConfig(upstreamHost: string): string {
  return JSON.stringify({
    static_resources: {
      listeners: [
        {
          name: "https",
          address: { socket_address: { address: "0.0.0.0", port_value: 8443 } },
          filter_chains: [
            {
              transport_socket: {
                name: "envoy.transport_sockets.tls",
                typed_config: {
                  "@type":
                    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                  common_tls_context: {
                    tls_params: { tls_minimum_protocol_version: "TLSv1_2" },
                    tls_certificates: [
                      {
                        certificate_chain: { filename: "/tls/tls.crt" },
                        private_key: { filename: "/tls/tls.key" },
                      },
                    ],
                  },
                },
              },
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type":
                      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "strata",
                    route_config: {
                      virtual_hosts: [
                        {
                          name: "strata",
                          domains: ["*"],
                          routes: [
                            ...FEATURE_PATHS.map((path) => ({
                              match: { path },
                              route: { cluster: "serve", timeout: "5s" },
                            })),
                            { match: { prefix: "/" }, direct_response: { status: 404 } },
                          ],
                        },
                      ],
                    },
                    http_filters: [
                      {
                        name: "envoy.filters.http.router",
                        typed_config: {
                          "@type":
                            "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                        },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: "serve",
          type: "STRICT_DNS",
          connect_timeout: "1s",
          load_assignment: {
            cluster_name: "serve",
            endpoints: [
              {
                lb_endpoints: [
                  {
                    endpoint: {
                      address: {
                        socket_address: { address: upstreamHost, port_value: SERVE_PORT },
                      },
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
    },
  });
}

/** The front proxy that terminates TLS for inference clients: the region's only way in. */
export class EnvoyFront extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: EnvoyFrontArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:kubernetes:EnvoyFront", name, {}, opts);
    const parent = { parent: this };
    const { config, namespace } = args;
    const conf = new k8s.core.v1.ConfigMap(
      name,
      {
        metadata: { namespace },
        data: { "envoy.json": pulumi.output(args.upstreamHost).apply(envoyConfig) },
      },
      parent,
    );
    new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { namespace, labels: ENVOY_LABELS },
        spec: {
          replicas: 2,
          selector: { matchLabels: ENVOY_LABELS },
          template: {
            metadata: { labels: ENVOY_LABELS },
            spec: {
              securityContext: podSecurity(ENVOY_UID),
              automountServiceAccountToken: false,
              containers: [
                {
                  name: "envoy",
                  image: config.kubernetes!.envoyImage,
                  args: ["-c", "/config/envoy.json"],
                  ports: [{ name: "https", containerPort: 8443 }],
                  securityContext: CONTAINER_SECURITY,
                  volumeMounts: [
                    { name: "config", mountPath: "/config", readOnly: true },
                    { name: "tls", mountPath: "/tls", readOnly: true },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: conf.metadata.name } },
                { name: "tls", secret: { secretName: config.kubernetes!.tlsSecretName } },
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
        metadata: { namespace, labels: ENVOY_LABELS },
        spec: {
          type: "LoadBalancer",
          selector: ENVOY_LABELS,
          ports: [{ name: "https", port: 443, targetPort: "https" }],
        },
      },
      parent,
    );
    this.url = pulumi.interpolate`https://${service.metadata.name}.${namespace}.svc`;
    this.registerOutputs({ url: this.url });
  }
}
