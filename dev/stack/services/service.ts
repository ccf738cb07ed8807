export type UpOutcome = "started" | "reused" | "external";

export interface ServiceStatus {
  name: string;
  state: "running" | "stopped" | "external";
  address: string;
  pids: number[];
  /** The environment variable an external address came from. */
  source?: string;
  /** The region a per-region service belongs to; none for toxiproxy and MirrorMaker 2. */
  region?: string;
}

/** One service of the local stack. `up` is idempotent; `down` stops only what `up` started. */
export interface StackService {
  readonly name: string;
  up(log: (line: string) => void): Promise<UpOutcome>;
  down(): Promise<boolean>;
  status(): ServiceStatus;
}
