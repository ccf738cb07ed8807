import type * as k8s from "@pulumi/kubernetes";

type Input<T> = k8s.types.input.core.v1.PodSecurityContext & T;

/** A pod that runs as the given non-root user, with the runtime's default seccomp profile. */
export function podSecurity(uid: number): Input<object> {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** A container that cannot write its image, gain privileges or keep any capability. */
export const CONTAINER_SECURITY: k8s.types.input.core.v1.SecurityContext = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};

/** Pods that may reach Redis and Kafka carry this label: the serving tier and the consumer. */
export const CLIENT_LABEL = { "strata.io/client": "true" };
