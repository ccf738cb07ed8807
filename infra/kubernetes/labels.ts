/** Labels of the region's workload pods that network policies select on. */
export const DRIFT_LABELS = {
  "app.kubernetes.io/name": "strata-drift",
  "app.kubernetes.io/part-of": "strata",
};
export const PROMETHEUS_LABELS = {
  "app.kubernetes.io/name": "strata-prometheus",
  "app.kubernetes.io/part-of": "strata",
};
/** The port the region's Prometheus serves its HTTP API on. */
export const PROMETHEUS_PORT = 9090;
