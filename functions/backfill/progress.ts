import type { BackfillState } from "../../shared/backfill/index.js";

/** Done and total work units of a loading backfill: rows produced and loaded, records replayed. */
export function workOf(state: BackfillState): { done: number; total: number } {
  const p = state.progress;
  return {
    done: p.produced + p.replayed + p.loaded,
    total: state.manifest.rows * 2 + p.replayTotal,
  };
}

/**
 * Progress on a terminal: one line redrawn in place with a bar, the rate and an ETA; plain
 * lines (at most one per 2 s) elsewhere, and never colour or redraws when NO_COLOR is set.
 */
export class ProgressPrinter {
  private readonly started = Date.now();
  private lastLine = 0;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty = out.isTTY === true && process.env.NO_COLOR === undefined,
  ) {}

  update(state: BackfillState): void {
    const { done, total } = workOf(state);
    const elapsed = (Date.now() - this.started) / 1_000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 && total > done ? `${Math.ceil((total - done) / rate)} s` : "-";
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const text = `${state.view} ${state.stage}: produced ${state.progress.produced}, replayed ${state.progress.replayed}/${state.progress.replayTotal}, loaded ${state.progress.loaded}/${state.manifest.rows}, ${Math.round(rate)}/s, eta ${eta}`;
    if (this.tty) {
      const width = 24;
      const bar = "#".repeat(Math.round(fraction * width)).padEnd(width, ".");
      this.out.write(`\r[${bar}] ${Math.round(fraction * 100)}% ${text}\x1b[K`);
    } else if (Date.now() - this.lastLine >= 2_000) {
      this.lastLine = Date.now();
      this.out.write(`${text}\n`);
    }
  }

  end(): void {
    if (this.tty) this.out.write("\n");
  }
}
