import type { OutStream } from "./output.js";

/** A progress line that rewrites itself on a terminal and prints nothing elsewhere. */
export interface Progress {
  update(done: number, fraction?: number): void;
  done(): void;
}

const BAR_WIDTH = 24;

/**
 * `label [#####-----] 42% 1,200 rows` on stderr, at most every 100 ms. Off a terminal it is
 * silent, so piped output and logs never fill with carriage returns.
 */
export function progressLine(stream: OutStream, on: boolean, label: string): Progress {
  if (!on) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  const render = (done: number, fraction?: number) => {
    const count = `${done.toLocaleString("en-US")} rows`;
    let text = `${label} ${count}`;
    if (fraction !== undefined) {
      const f = Math.min(1, Math.max(0, fraction));
      const full = Math.round(f * BAR_WIDTH);
      text = `${label} [${"#".repeat(full)}${"-".repeat(BAR_WIDTH - full)}] ${Math.floor(f * 100)}% ${count}`;
    }
    stream.write(`\r${text}\x1b[K`);
    shown = true;
  };
  return {
    update(done, fraction) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      render(done, fraction);
    },
    done() {
      if (shown) stream.write("\r\x1b[K");
    },
  };
}
