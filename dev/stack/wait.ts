export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked before each attempt: a server that died will never become ready, so stop waiting. */
  stillAlive?: () => boolean;
}

export type WaitOutcome = "ready" | "timeout" | "died";

/** Polls `probe` until it resolves true, the deadline passes, or the process dies. Never hangs. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  { timeoutMs, intervalMs = 200, stillAlive }: WaitOptions,
): Promise<WaitOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (stillAlive && !stillAlive()) return "died";
    if (await probe().catch(() => false)) return "ready";
    if (Date.now() >= deadline) return "timeout";
    await sleep(intervalMs);
  }
}
