import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { INGEST_METRICS_PORT, SERVE_ADMIN_PORT, SERVE_PORT } from "../region-stack.js";
import { ENVOY_LABELS } from "./envoy.js";
import { REDIS_LABELS } from "./redis-cluster.js";
import { MIRROR_MAKER_LABELS } from "./replication.js";
import { PEER_LISTENER_PORT } from "./strimzi-kafka.js";
import { DRIFT_LABELS, PROMETHEUS_LABELS, PROMETHEUS_PORT } from "./labels.js";
import { CLIENT_LABEL } from "./security.js";
import { INGEST_LABELS, SERVE_LABELS } from "./serving.js";

export interface NetworkPoliciesArgs {
  namespace: pulumi.Input<string>;
  kafkaClusterName: string;
  /** The namespace Prometheus scrapes from (by its kubernetes.io/metadata.name label). */
  monitoringNamespace: string;
  /**
   * The region has peers: MirrorMaker 2 runs here (Strimzi's operator drives its REST API), and
   * the peers' replicators reach Kafka's peer listener.
   */
  mirrorMaker: boolean;
  /** The region runs its own Prometheus (no Prometheus operator): it scrapes the admin ports. */
  ownPrometheus: boolean;
}

/**
 * Deny all ingress in the namespace, then allow exactly: Redis from Strata's clients and its
 * own pods (replication, the cluster bus, the init Job); Kafka from Strata's clients, its own
 * pods and Strimzi's operators; the serving tier's feature port from Envoy; the admin ports
 * (metrics) from the monitoring namespace; Envoy from anywhere (it is the way in, over TLS).
 */
export class NetworkPolicies extends pulumi.ComponentResource {
  constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:kubernetes:NetworkPolicies", name, {}, opts);
    const parent = { parent: this };
    const { namespace } = args;
    const policy = (suffix: string, podSelector: object, ingress: object[]) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${suffix}`,
        {
          metadata: { namespace },
          spec: { podSelector, policyTypes: ["Ingress"], ingress },
        },
        parent,
      );
    const monitoring = {
      namespaceSelector: {
        matchLabels: { "kubernetes.io/metadata.name": args.monitoringNamespace },
      },
    };
    const kafkaPods = { "strimzi.io/cluster": args.kafkaClusterName };

    policy("default-deny", {}, []);
    policy("redis", { matchLabels: REDIS_LABELS }, [
      {
        from: [
          { podSelector: { matchLabels: CLIENT_LABEL } },
          { podSelector: { matchLabels: REDIS_LABELS } },
          // The drift function claims retraining here (unless strata:drift.claimRedis is elsewhere).
          { podSelector: { matchLabels: DRIFT_LABELS } },
        ],
        ports: [{ port: 6379 }],
      },
      { from: [{ podSelector: { matchLabels: REDIS_LABELS } }], ports: [{ port: 16379 }] },
    ]);
    policy("kafka", { matchLabels: kafkaPods }, [
      { from: [{ podSelector: { matchLabels: CLIENT_LABEL } }], ports: [{ port: 9093 }] },
      { from: [{ podSelector: { matchLabels: kafkaPods } }] },
      // Peers' replicators, over the user's network: admitted by mutual TLS, not by address.
      ...(args.mirrorMaker ? [{ ports: [{ port: PEER_LISTENER_PORT }] }] : []),
      // Strimzi's cluster operator may run in another namespace.
      {
        from: [
          {
            namespaceSelector: {},
            podSelector: { matchLabels: { "strimzi.io/kind": "cluster-operator" } },
          },
        ],
        ports: [{ port: 9090 }, { port: 9091 }, { port: 9092 }, { port: 8080 }],
      },
    ]);
    const scrapers = [
      monitoring,
      ...(args.ownPrometheus ? [{ podSelector: { matchLabels: PROMETHEUS_LABELS } }] : []),
    ];
    policy("serve", { matchLabels: SERVE_LABELS }, [
      { from: [{ podSelector: { matchLabels: ENVOY_LABELS } }], ports: [{ port: SERVE_PORT }] },
      { from: scrapers, ports: [{ port: SERVE_ADMIN_PORT }] },
    ]);
    policy("ingest", { matchLabels: INGEST_LABELS }, [
      { from: scrapers, ports: [{ port: INGEST_METRICS_PORT }] },
    ]);
    if (args.ownPrometheus) {
      // Queried by the drift function, and by the monitoring namespace (dashboards).
      policy("prometheus", { matchLabels: PROMETHEUS_LABELS }, [
        {
          from: [{ podSelector: { matchLabels: DRIFT_LABELS } }, monitoring],
          ports: [{ port: PROMETHEUS_PORT }],
        },
      ]);
    }
    policy("envoy", { matchLabels: ENVOY_LABELS }, [{ ports: [{ port: 8443 }] }]);
    if (args.mirrorMaker) {
      // MM2 takes no traffic but the operator's calls to its Connect REST API.
      policy("mirrormaker2", { matchLabels: MIRROR_MAKER_LABELS }, [
        {
          from: [
            {
              namespaceSelector: {},
              podSelector: { matchLabels: { "strimzi.io/kind": "cluster-operator" } },
            },
          ],
          ports: [{ port: 8083 }],
        },
      ]);
    }
    this.registerOutputs({});
  }
}
