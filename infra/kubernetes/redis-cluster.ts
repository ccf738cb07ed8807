import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { CONTAINER_SECURITY, podSecurity } from "./security.js";

export interface RedisClusterArgs {
  config: StackConfig;
  namespace: pulumi.Input<string>;
  password: pulumi.Input<string>;
}

export const REDIS_LABELS = {
  "app.kubernetes.io/name": "strata-redis",
  "app.kubernetes.io/part-of": "strata",
};
const REDIS_UID = 999;

/**
 * Redis Cluster as a StatefulSet: shards x (1 + replicas) pods, TLS only (the plain port is
 * off; certificates from the configured Secret), AUTH, persistence on a volume per pod, pods
 * spread over nodes (anti-affinity), a disruption budget of one pod, and a Job that forms the
 * cluster once every pod runs.
 */
export class RedisCluster extends pulumi.ComponentResource {
  readonly endpoint: pulumi.Output<string>;
  readonly passwordSecretName: pulumi.Output<string>;
  readonly tlsSecretName: string;

  constructor(name: string, args: RedisClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:kubernetes:RedisCluster", name, {}, opts);
    const parent = { parent: this };
    const { config, namespace } = args;
    const options = config.kubernetes!;
    const replicas = config.redis.shards * (1 + config.redis.replicasPerShard);
    const password = new k8s.core.v1.Secret(
      `${name}-password`,
      {
        metadata: { namespace },
        stringData: { password: args.password },
      },
      parent,
    );
    const conf = new k8s.core.v1.ConfigMap(
      `${name}-conf`,
      {
        metadata: { namespace },
        data: {
          "redis.conf": [
            "port 0",
            "tls-port 6379",
            "tls-cert-file /tls/tls.crt",
            "tls-key-file /tls/tls.key",
            "tls-ca-cert-file /tls/ca.crt",
            "tls-cluster yes",
            "tls-replication yes",
            "tls-auth-clients no",
            "cluster-enabled yes",
            "cluster-config-file /data/nodes.conf",
            "cluster-node-timeout 5000",
            "appendonly yes",
            "dir /data",
          ].join("\n"),
        },
      },
      parent,
    );
    const headless = new k8s.core.v1.Service(
      `${name}-nodes`,
      {
        metadata: { namespace, labels: REDIS_LABELS },
        spec: {
          clusterIP: "None",
          selector: REDIS_LABELS,
          ports: [
            { name: "tls", port: 6379 },
            { name: "bus", port: 16379 },
          ],
        },
      },
      parent,
    );
    const client = new k8s.core.v1.Service(
      name,
      {
        metadata: { namespace, labels: REDIS_LABELS },
        spec: { type: "ClusterIP", selector: REDIS_LABELS, ports: [{ name: "tls", port: 6379 }] },
      },
      parent,
    );
    const env = [
      {
        name: "REDIS_PASSWORD",
        valueFrom: { secretKeyRef: { name: password.metadata.name, key: "password" } },
      },
    ];
    const sets = new k8s.apps.v1.StatefulSet(
      name,
      {
        metadata: { namespace, labels: REDIS_LABELS },
        spec: {
          serviceName: headless.metadata.name,
          replicas,
          podManagementPolicy: "Parallel",
          selector: { matchLabels: REDIS_LABELS },
          template: {
            metadata: { labels: REDIS_LABELS },
            spec: {
              securityContext: podSecurity(REDIS_UID),
              affinity: {
                podAntiAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: [
                    {
                      labelSelector: { matchLabels: REDIS_LABELS },
                      topologyKey: "kubernetes.io/hostname",
                    },
                  ],
                },
              },
              containers: [
                {
                  name: "redis",
                  image: options.redisImage,
                  command: [
                    "sh",
                    "-c",
                    'exec redis-server /conf/redis.conf --requirepass "$REDIS_PASSWORD" --masterauth "$REDIS_PASSWORD"',
                  ],
                  env,
                  ports: [
                    { name: "tls", containerPort: 6379 },
                    { name: "bus", containerPort: 16379 },
                  ],
                  resources: {
                    requests: { cpu: "500m", memory: config.redis.nodeSize },
                    limits: { memory: config.redis.nodeSize },
                  },
                  securityContext: CONTAINER_SECURITY,
                  readinessProbe: {
                    exec: {
                      command: [
                        "sh",
                        "-c",
                        'redis-cli --tls --cacert /tls/ca.crt -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG',
                      ],
                    },
                    periodSeconds: 5,
                  },
                  volumeMounts: [
                    { name: "data", mountPath: "/data" },
                    { name: "conf", mountPath: "/conf", readOnly: true },
                    { name: "tls", mountPath: "/tls", readOnly: true },
                  ],
                },
              ],
              volumes: [
                { name: "conf", configMap: { name: conf.metadata.name } },
                { name: "tls", secret: { secretName: options.redisTlsSecretName } },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data" },
              spec: {
                accessModes: ["ReadWriteOnce"],
                storageClassName: options.storageClass,
                resources: { requests: { storage: "20Gi" } },
              },
            },
          ],
        },
      },
      parent,
    );
    new k8s.policy.v1.PodDisruptionBudget(
      name,
      {
        metadata: { namespace },
        spec: { maxUnavailable: 1, selector: { matchLabels: REDIS_LABELS } },
      },
      parent,
    );
    const nodes = pulumi
      .all([sets.metadata.name, headless.metadata.name, namespace])
      .apply(([set, service, ns]) =>
        Array.from({ length: replicas }, (_, i) => `${set}-${i}.${service}.${ns}.svc:6379`).join(
          " ",
        ),
      );
    new k8s.batch.v1.Job(
      `${name}-create`,
      {
        metadata: { namespace },
        spec: {
          backoffLimit: 20,
          template: {
            metadata: { labels: { ...REDIS_LABELS, "strata.io/role": "cluster-init" } },
            spec: {
              restartPolicy: "OnFailure",
              securityContext: podSecurity(REDIS_UID),
              containers: [
                {
                  name: "create",
                  image: options.redisImage,
                  command: ["sh", "-c"],
                  // Forms the cluster once; a cluster that already has its slots is left alone.
                  args: [
                    pulumi.interpolate`redis-cli --tls --cacert /tls/ca.crt -a "$REDIS_PASSWORD" --no-auth-warning -h ${sets.metadata.name}-0.${headless.metadata.name} cluster info | grep -q 'cluster_slots_assigned:16384' || redis-cli --tls --cacert /tls/ca.crt -a "$REDIS_PASSWORD" --no-auth-warning --cluster create ${nodes} --cluster-replicas ${config.redis.replicasPerShard} --cluster-yes`,
                  ],
                  env,
                  securityContext: CONTAINER_SECURITY,
                  volumeMounts: [{ name: "tls", mountPath: "/tls", readOnly: true }],
                },
              ],
              volumes: [{ name: "tls", secret: { secretName: options.redisTlsSecretName } }],
            },
          },
        },
      },
      { parent: this, dependsOn: [sets] },
    );
    this.endpoint = pulumi.interpolate`${client.metadata.name}.${namespace}.svc:6379`;
    this.passwordSecretName = password.metadata.name;
    this.tlsSecretName = options.redisTlsSecretName;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
