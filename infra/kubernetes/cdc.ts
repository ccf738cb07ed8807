import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { cdcConnectorName, cdcTopicPrefix } from "../../shared/sources/debezium-config.js";
import {
  type SecretRef,
  cdcConnectors,
  cdcConnectClusterNames,
  DEBEZIUM_POSTGRES_ARTIFACT,
} from "../cdc/index.js";
import type { StackConfig } from "../config.js";
import { acl, kafkaUser } from "./kafka-user.js";
import { connectClusterSpec, connectIngressPolicy } from "./strimzi-connect.js";
import { CLIENT_LABEL, CONTAINER_SECURITY, podSecurity } from "./security.js";

export interface KubernetesCdcArgs {
  config: StackConfig;
  namespace: pulumi.Input<string>;
  kafkaClusterName: string;
  kafkaBootstrap: pulumi.Input<string>;
}

/** Where a root certificate Secret is mounted in the Connect pods. */
export function rootCertPath(ref: SecretRef): string {
  return `/mnt/strata-cdc/${ref.name}/${ref.key}`;
}

/** Strimzi's provider: `${secrets:<namespace>/<secret>:<key>}` read through the API server. */
export const SECRET_PROVIDER = "io.strimzi.kafka.KubernetesSecretConfigProvider";

/**
 * Debezium on Strimzi: a KafkaConnect whose image Strimzi builds with the Debezium PostgreSQL
 * plugin from Maven (spec.build, pushed to `strata:cdc.buildOutput.image`), Strimzi's
 * KubernetesSecretConfigProvider, the root certificate Secrets mounted read-only; one
 * KafkaConnector per database whose password is a `${secrets:<ns>/<secret>:<key>}` reference
 * (a Role lets the Connect service account get exactly those Secrets) and which verifies the
 * server (`sslmode=verify-full`); a KafkaUser limited to the CDC topics and Connect's own.
 */
export class KubernetesCdc extends pulumi.ComponentResource {
  readonly connectorNames: string[];

  constructor(name: string, args: KubernetesCdcArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:kubernetes:Cdc", name, {}, opts);
    const parent = { parent: this };
    const { config, namespace } = args;
    const cdc = config.cdc!;
    const connect = cdcConnectClusterNames(config.project);
    const connectName = `${args.kafkaClusterName}-cdc`;
    const userName = `${args.kafkaClusterName}-cdc`;
    kafkaUser(
      `${name}-user`,
      {
        userName,
        namespace,
        kafkaClusterName: args.kafkaClusterName,
        acls: [
          // Debezium's table topics, created by Connect on the first change of each table.
          acl(
            { type: "topic", name: `${cdcTopicPrefix(config.project)}.`, patternType: "prefix" },
            ["Describe", "DescribeConfigs", "Create", "Write"],
          ),
          ...[connect.configTopic, connect.offsetTopic, connect.statusTopic].map((topic) =>
            acl({ type: "topic", name: topic, patternType: "literal" }, [
              "Describe",
              "DescribeConfigs",
              "Create",
              "Read",
              "Write",
            ]),
          ),
          acl({ type: "group", name: connect.groupId, patternType: "literal" }, [
            "Describe",
            "Read",
          ]),
          acl({ type: "cluster" }, ["Describe", "IdempotentWrite"]),
        ],
      },
      parent,
    );
    const databases = Object.values(cdc.databases);
    const rootCerts = [
      ...new Map(
        databases.map((db) => {
          const ref = db.sslRootCertSecret as SecretRef;
          return [ref.name, ref] as const;
        }),
      ).values(),
    ];
    const volumeName = (i: number) => `cdc-root-cert-${i}`;
    const build = cdc.buildOutput!;
    const base = connectClusterSpec({ ...args, userName, names: connect });
    new k8s.apiextensions.CustomResource(
      `${name}-connect`,
      {
        apiVersion: "kafka.strimzi.io/v1beta2",
        kind: "KafkaConnect",
        metadata: {
          name: connectName,
          namespace,
          annotations: { "strimzi.io/use-connector-resources": "true" },
        },
        spec: {
          ...base,
          config: {
            ...base.config,
            "config.providers": "secrets",
            "config.providers.secrets.class": SECRET_PROVIDER,
          },
          build: {
            output: {
              type: "docker",
              image: build.image,
              ...(build.pushSecret ? { pushSecret: build.pushSecret } : {}),
            },
            plugins: [
              {
                name: "debezium-postgres",
                artifacts: [{ type: "maven", ...DEBEZIUM_POSTGRES_ARTIFACT }],
              },
            ],
          },
          template: {
            pod: {
              metadata: { labels: CLIENT_LABEL },
              securityContext: podSecurity(1001),
              volumes: rootCerts.map((ref, i) => ({
                name: volumeName(i),
                secret: { secretName: ref.name },
              })),
            },
            connectContainer: {
              securityContext: CONTAINER_SECURITY,
              volumeMounts: rootCerts.map((ref, i) => ({
                name: volumeName(i),
                mountPath: `/mnt/strata-cdc/${ref.name}`,
                readOnly: true,
              })),
            },
          },
        },
      },
      parent,
    );
    const connectors = pulumi.output(namespace).apply((ns) =>
      cdcConnectors(config, {
        password: (_, db) => `\${secrets:${ns}/${db.passwordSecret.name}:${db.passwordSecret.key}}`,
        rootCert: (_, db) => rootCertPath(db.sslRootCertSecret as SecretRef),
      }),
    );
    this.connectorNames = Object.keys(cdc.databases).map((d) =>
      cdcConnectorName(config.project, d),
    );
    Object.keys(cdc.databases).forEach((database, i) => {
      const connector = connectors.apply((all) => all[i]!);
      new k8s.apiextensions.CustomResource(
        `${name}-${database}`,
        {
          apiVersion: "kafka.strimzi.io/v1beta2",
          kind: "KafkaConnector",
          metadata: {
            name: connector.name,
            namespace,
            labels: { "strimzi.io/cluster": connectName },
          },
          spec: connector.apply((c) => {
            const { "connector.class": connectorClass, "tasks.max": tasksMax, ...rest } = c.config;
            return { class: connectorClass, tasksMax: Number(tasksMax), config: rest };
          }),
        },
        parent,
      );
    });
    // The provider reads the password Secrets with the Connect pods' service account (Strimzi
    // names it <connect>-connect): get, on exactly those Secrets.
    const role = new k8s.rbac.v1.Role(
      `${name}-secrets`,
      {
        metadata: { namespace },
        rules: [
          {
            apiGroups: [""],
            resources: ["secrets"],
            resourceNames: [...new Set(databases.map((db) => db.passwordSecret.name))].sort(),
            verbs: ["get"],
          },
        ],
      },
      parent,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-secrets`,
      {
        metadata: { namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: `${connectName}-connect`, namespace }],
      },
      parent,
    );
    connectIngressPolicy(`${name}-connect`, namespace, connectName, parent);
    this.registerOutputs({});
  }
}
