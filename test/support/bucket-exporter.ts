// A stand-in for serving's drift recording: a node:http /metrics endpoint with the same
// counter (name and labels from shared/drift/metric-names.ts), whose counts the test sets, so
// a real Prometheus scrapes distributions the test controls.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Registry } from "prom-client";
import {
  FEATURE_VALUE_BUCKET_TOTAL,
  FEATURE_VALUE_LABELS,
} from "../../shared/drift/metric-names.js";

export interface SeriesKey {
  project: string;
  region: string;
  feature_service: string;
  feature: string;
  baseline: string;
}

export class BucketExporter {
  readonly registry = new Registry();
  private readonly counter = new Counter({
    name: FEATURE_VALUE_BUCKET_TOTAL,
    help: "feature values served, per baseline bucket (test exporter)",
    labelNames: FEATURE_VALUE_LABELS,
    registers: [this.registry],
  });

  private readonly server: Server = createServer((_req, res) => {
    void this.registry.metrics().then((text) => {
      res.writeHead(200, { "content-type": this.registry.contentType }).end(text);
    });
  });
  /** host:port, for a scrape config. */
  target = "";

  private constructor() {}

  static async start(): Promise<BucketExporter> {
    const exporter = new BucketExporter();
    await new Promise<void>((resolve) => exporter.server.listen(0, "127.0.0.1", resolve));
    exporter.target = `127.0.0.1:${(exporter.server.address() as AddressInfo).port}`;
    return exporter;
  }

  /** Creates every bucket's series at 0 (a counter's first sample is not an increase). */
  declare(key: SeriesKey, buckets: number): void {
    for (let b = 0; b < buckets; b++) this.counter.inc({ ...key, bucket: String(b) }, 0);
  }

  /** Adds counts per bucket (index = bucket label). */
  add(key: SeriesKey, counts: readonly number[]): void {
    counts.forEach((n, b) => {
      if (n > 0) this.counter.inc({ ...key, bucket: String(b) }, n);
    });
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}
