import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import {
  INGEST_COMMAND,
  INGEST_METRICS_PORT,
  jobEnvironment,
  peerEnvironment,
  regionEnvironment,
  SERVE_ADMIN_PORT,
  SERVE_COMMAND,
  SERVE_PORT,
} from "../region-stack.js";
import { cdcIngestEnvironment, offlineProjectionEnvironment } from "../workload-env.js";
import { CLIENT_LABEL, CONTAINER_SECURITY, podSecurity } from "./security.js";

export interface KubernetesServingArgs {
  config: StackConfig;
  namespace: pulumi.Input<string>;
  redisEndpoint: pulumi.Input<string>;
  redisPasswordSecret: pulumi.Input<string>;
  redisTlsSecret: string;
  kafkaBootstrap: pulumi.Input<string>;
  /** Strimzi's cluster CA and the KafkaUser secrets (mutual TLS). */
  kafkaClusterName: string;
  servingKafkaUser: string;
  consumerKafkaUser: string;
  apiKeys: pulumi.Input<string>;
}

export const SERVE_LABELS = {
  "app.kubernetes.io/name": "strata-serve",
  "app.kubernetes.io/part-of": "strata",
};
export const INGEST_LABELS = {
  "app.kubernetes.io/name": "strata-ingest",
  "app.kubernetes.io/part-of": "strata",
};
const NODE_UID = 1000;

/**
 * The serving Deployment (Service, HorizontalPodAutoscaler on CPU, PodDisruptionBudget) and
 * the consumer Deployment: the same image, non-root, read-only root filesystem, TLS to Redis
 * and mutual TLS to Kafka with certificates from Secrets.
 */
export class KubernetesServing extends pulumi.ComponentResource {
  /** The feature API's Service (Envoy's upstream): the feature port only. */
  readonly serviceHost: pulumi.Output<string>;
  /** The serving tier's admin Service: /health, /ready, /metrics for in-cluster Prometheus. */
  readonly adminServiceHost: pulumi.Output<string>;
  /**
   * The pod of a one-shot job of the image (the reconcile CronJob): the consumer's environment
   * without ports, the same certificates, non-root, with the given command and KafkaUser, plus
   * the variables `extraEnv` derives from that environment.
   */
  readonly jobPodSpec: (
    command: string[],
    kafkaUser: string,
    extraEnv?: (
      env: readonly { name: string; value?: pulumi.Input<string> }[],
    ) => { name: string; value: pulumi.Input<string> }[],
  ) => k8s.types.input.core.v1.PodSpec;

  constructor(name: string, args: KubernetesServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:kubernetes:Serving", name, {}, opts);
    const parent = { parent: this };
    const { config, namespace } = args;
    const apiKeys = new k8s.core.v1.Secret(
      `${name}-api-keys`,
      { metadata: { namespace }, stringData: { keys: args.apiKeys } },
      parent,
    );
    const secretEnv = (envName: string, secret: pulumi.Input<string>, key: string) => ({
      name: envName,
      valueFrom: { secretKeyRef: { name: secret, key } },
    });
    const env = [
      ...regionEnvironment(config, args.redisEndpoint, args.kafkaBootstrap),
      secretEnv("REDIS_PASSWORD", args.redisPasswordSecret, "password"),
      secretEnv("STRATA_API_KEYS", apiKeys.metadata.name, "keys"),
      { name: "REDIS_TLS_CA_FILE", value: "/etc/strata/redis/ca.crt" },
      { name: "KAFKA_TLS_CA_FILE", value: "/etc/strata/kafka-ca/ca.crt" },
      { name: "KAFKA_TLS_CERT_FILE", value: "/etc/strata/kafka-user/user.crt" },
      { name: "KAFKA_TLS_KEY_FILE", value: "/etc/strata/kafka-user/user.key" },
    ];
    // The feature API is the "http" port (serve only); probes and scrapes use the "admin" port.
    const adminPort = (role: "serve" | "ingest") =>
      role === "serve" ? SERVE_ADMIN_PORT : INGEST_METRICS_PORT;
    const podAnnotations = (role: "serve" | "ingest") => ({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(adminPort(role)),
      "prometheus.io/path": "/metrics",
    });
    const podSpec = (role: "serve" | "ingest", kafkaUser: string) => ({
      securityContext: podSecurity(NODE_UID),
      automountServiceAccountToken: false,
      containers: [
        {
          name: role,
          image: config.serving.image,
          command: role === "serve" ? SERVE_COMMAND : INGEST_COMMAND,
          env: [
            ...env,
            ...peerEnvironment(config, role),
            ...(role === "ingest"
              ? [...offlineProjectionEnvironment(config), ...cdcIngestEnvironment(config)]
              : []),
          ],
          ports: [
            ...(role === "serve" ? [{ name: "http", containerPort: SERVE_PORT }] : []),
            { name: "admin", containerPort: adminPort(role) },
          ],
          resources: {
            requests: { cpu: String(config.serving.cpu), memory: `${config.serving.memoryMiB}Mi` },
            limits: { memory: `${config.serving.memoryMiB}Mi` },
          },
          livenessProbe: { httpGet: { path: "/health", port: "admin" } },
          readinessProbe: { httpGet: { path: "/ready", port: "admin" } },
          securityContext: CONTAINER_SECURITY,
          volumeMounts: [
            { name: "tmp", mountPath: "/tmp" },
            { name: "redis-tls", mountPath: "/etc/strata/redis", readOnly: true },
            { name: "kafka-ca", mountPath: "/etc/strata/kafka-ca", readOnly: true },
            { name: "kafka-user", mountPath: "/etc/strata/kafka-user", readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: "tmp", emptyDir: {} },
        {
          name: "redis-tls",
          secret: { secretName: args.redisTlsSecret, items: [{ key: "ca.crt", path: "ca.crt" }] },
        },
        { name: "kafka-ca", secret: { secretName: `${args.kafkaClusterName}-cluster-ca-cert` } },
        { name: "kafka-user", secret: { secretName: kafkaUser } },
      ],
    });
    const serve = new k8s.apps.v1.Deployment(
      `${name}-serve`,
      {
        metadata: { namespace, labels: SERVE_LABELS },
        spec: {
          replicas: config.serving.minReplicas,
          selector: { matchLabels: SERVE_LABELS },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: {
              labels: { ...SERVE_LABELS, ...CLIENT_LABEL },
              annotations: podAnnotations("serve"),
            },
            spec: { ...podSpec("serve", args.servingKafkaUser), terminationGracePeriodSeconds: 30 },
          },
        },
      },
      parent,
    );
    const service = new k8s.core.v1.Service(
      `${name}-serve`,
      {
        metadata: { namespace, labels: SERVE_LABELS },
        spec: {
          type: "ClusterIP",
          selector: SERVE_LABELS,
          ports: [{ name: "http", port: SERVE_PORT, targetPort: "http" }],
        },
      },
      parent,
    );
    // Apart from the feature Service, so that Envoy's upstream carries the feature port alone.
    const adminService = new k8s.core.v1.Service(
      `${name}-serve-admin`,
      {
        metadata: { namespace, labels: SERVE_LABELS },
        spec: {
          type: "ClusterIP",
          selector: SERVE_LABELS,
          ports: [{ name: "admin", port: SERVE_ADMIN_PORT, targetPort: "admin" }],
        },
      },
      parent,
    );
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${name}-serve`,
      {
        metadata: { namespace },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: serve.metadata.name },
          minReplicas: config.serving.minReplicas,
          maxReplicas: config.serving.maxReplicas,
          metrics: [
            {
              type: "Resource",
              resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } },
            },
          ],
        },
      },
      parent,
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-serve`,
      {
        metadata: { namespace },
        spec: {
          minAvailable: Math.max(1, config.serving.minReplicas - 1),
          selector: { matchLabels: SERVE_LABELS },
        },
      },
      parent,
    );
    new k8s.apps.v1.Deployment(
      `${name}-ingest`,
      {
        metadata: { namespace, labels: INGEST_LABELS },
        spec: {
          replicas: config.serving.consumerReplicas,
          selector: { matchLabels: INGEST_LABELS },
          template: {
            metadata: {
              labels: { ...INGEST_LABELS, ...CLIENT_LABEL },
              annotations: podAnnotations("ingest"),
            },
            spec: {
              ...podSpec("ingest", args.consumerKafkaUser),
              terminationGracePeriodSeconds: 60,
            },
          },
        },
      },
      parent,
    );
    // The consumer takes no traffic; this Service only names its metrics for Prometheus.
    new k8s.core.v1.Service(
      `${name}-ingest-metrics`,
      {
        metadata: { namespace, labels: INGEST_LABELS },
        spec: {
          type: "ClusterIP",
          selector: INGEST_LABELS,
          ports: [{ name: "admin", port: INGEST_METRICS_PORT, targetPort: "admin" }],
        },
      },
      parent,
    );
    this.jobPodSpec = (command, kafkaUser, extraEnv = () => []) => {
      const pod = podSpec("ingest", kafkaUser);
      const jobEnv = jobEnvironment(env);
      const container = pod.containers[0]!;
      return {
        ...pod,
        restartPolicy: "Never",
        containers: [
          {
            ...container,
            name: "job",
            command,
            env: [...jobEnv, ...extraEnv(jobEnv)],
            ports: [],
            livenessProbe: undefined,
            readinessProbe: undefined,
          },
        ],
      };
    };
    this.serviceHost = pulumi.interpolate`${service.metadata.name}.${namespace}.svc`;
    this.adminServiceHost = pulumi.interpolate`${adminService.metadata.name}.${namespace}.svc`;
    this.registerOutputs({
      serviceHost: this.serviceHost,
      adminServiceHost: this.adminServiceHost,
    });
  }
}
