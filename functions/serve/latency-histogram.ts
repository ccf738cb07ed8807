/**
 * A Prometheus histogram of durations, kept by hand for the one metric observed on every
 * request. prom-client's Histogram validates and hashes its labels and allocates on each
 * observation, which in the serving tier cost more than the rest of its metrics work together;
 * here the caller looks a series up once per label set, and an observation is a bucket search
 * and three additions. Rendered in Prometheus' text format, as prom-client renders its own.
 */
export class LatencyHistogram {
  private readonly series: Series[] = [];

  constructor(
    private readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly string[],
    /** Upper bounds in seconds, ascending; `+Inf` is implied. */
    private readonly bounds: readonly number[],
  ) {}

  /** The observer of one label set (values in `labelNames` order). Keep it: each call adds a series. */
  observer(labelValues: readonly string[]): (seconds: number) => void {
    const labels = this.labelNames
      .map((name, i) => `${name}="${escapeLabelValue(labelValues[i] ?? "")}"`)
      .join(",");
    const series: Series = {
      labels,
      counts: new Array<number>(this.bounds.length + 1).fill(0),
      sum: 0,
    };
    this.series.push(series);
    const bounds = this.bounds;
    return (seconds) => {
      let bucket = 0;
      while (bucket < bounds.length && seconds > bounds[bucket]!) bucket++;
      series.counts[bucket]!++;
      series.sum += seconds;
    };
  }

  /** The histogram in Prometheus' text exposition format (empty when nothing was observed). */
  render(): string {
    if (this.series.length === 0) return "";
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum } of this.series) {
      let cumulative = 0;
      counts.forEach((count, i) => {
        cumulative += count;
        const le = i < this.bounds.length ? String(this.bounds[i]) : "+Inf";
        lines.push(`${this.name}_bucket{le="${le}",${labels}} ${cumulative}`);
      });
      lines.push(
        `${this.name}_sum{${labels}} ${sum}`,
        `${this.name}_count{${labels}} ${cumulative}`,
      );
    }
    return `${lines.join("\n")}\n`;
  }
}

interface Series {
  /** `name="value",...`, escaped. */
  labels: string;
  /** Observations per bucket (not cumulative); the last is above every bound. */
  counts: number[];
  sum: number;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
