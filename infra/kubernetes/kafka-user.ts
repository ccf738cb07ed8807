import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/** One Strimzi simple-authorization ACL rule. */
export interface KafkaAcl {
  resource: { type: string; name?: string; patternType?: "literal" | "prefix" };
  operations: string[];
  host: "*";
}

export function acl(resource: KafkaAcl["resource"], operations: string[]): KafkaAcl {
  return { resource, operations, host: "*" };
}

/**
 * A KafkaUser with mutual-TLS authentication and exactly these ACLs; Strimzi writes its
 * certificate to the Secret of the same name.
 */
export function kafkaUser(
  name: string,
  args: {
    userName: string;
    namespace: pulumi.Input<string>;
    kafkaClusterName: string;
    acls: KafkaAcl[];
  },
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    name,
    {
      apiVersion: "kafka.strimzi.io/v1beta2",
      kind: "KafkaUser",
      metadata: {
        name: args.userName,
        namespace: args.namespace,
        labels: { "strimzi.io/cluster": args.kafkaClusterName },
      },
      spec: {
        authentication: { type: "tls" },
        authorization: { type: "simple", acls: args.acls },
      },
    },
    opts,
  );
}
