/**
 * NetworkPolicy egress peers of an address: an in-cluster Service name
 * (`<service>.<namespace>.svc[.cluster.local]`) becomes that namespace, anything else any
 * address; always on the one port.
 */
export function egressTo(host: string, port: number): object {
  const inCluster = /^[a-z0-9-]+\.([a-z0-9-]+)\.svc(\.cluster\.local)?$/.exec(host);
  return {
    to: [
      inCluster
        ? { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": inCluster[1] } } }
        : { ipBlock: { cidr: "0.0.0.0/0" } },
    ],
    ports: [{ protocol: "TCP", port }],
  };
}

/** Host and port of an http(s) URL (the scheme's port when none is written). */
export function urlHostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const port = parsed.port !== "" ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80;
  return { host: parsed.hostname, port };
}

/** Host and port of each seed of a Redis target (`cluster://h:p,h:p`, `rediss://h:p`). */
export function redisHostPorts(target: string): { host: string; port: number }[] {
  return target
    .replace(/^[a-z]+:\/\//, "")
    .split(",")
    .map((seed) => {
      const at = seed.lastIndexOf(":");
      return { host: seed.slice(0, at), port: Number(seed.slice(at + 1)) };
    });
}

/** DNS lookups through the cluster's resolver (kube-system), UDP and TCP. */
export const DNS_EGRESS = {
  to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};
